namespace Boxlite.Runtime;

/// <summary>The one table of allowed state transitions.</summary>
internal static class BoxStateMachine
{
    private static readonly Dictionary<BoxState, BoxState[]> Allowed = new()
    {
        [BoxState.Created] = [BoxState.Starting],
        [BoxState.Starting] = [BoxState.Running, BoxState.Failed],
        [BoxState.Running] = [BoxState.Paused, BoxState.Stopping, BoxState.Exited, BoxState.Unknown],
        [BoxState.Paused] = [BoxState.Running, BoxState.Stopping, BoxState.Exited, BoxState.Unknown],
        [BoxState.Stopping] = [BoxState.Exited, BoxState.Unknown],
        [BoxState.Exited] = [],
        [BoxState.Failed] = [],
        [BoxState.Unknown] = [BoxState.Stopping, BoxState.Exited],
    };

    /// <summary>True when a box may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    internal static bool CanTransition(BoxState from, BoxState to) =>
        Allowed.TryGetValue(from, out var targets) && Array.IndexOf(targets, to) >= 0;

    /// <summary>Throws <see cref="InvalidBoxStateException"/> unless the transition is allowed.</summary>
    internal static void EnsureTransition(BoxId id, BoxState from, BoxState to)
    {
        if (!CanTransition(from, to))
        {
            throw new InvalidBoxStateException(id, from, $"cannot go from {from} to {to}");
        }
    }
}

/// <summary>What a <see cref="BoxState"/> says about the box's processes.</summary>
public static class BoxStateExtensions
{
    /// <summary>True for states in which processes of the box may exist.</summary>
    public static bool IsLive(this BoxState state) => state is BoxState.Starting or BoxState.Running or BoxState.Paused or BoxState.Stopping;

    /// <summary>True for states from which the box will not move by itself.</summary>
    public static bool IsFinal(this BoxState state) => state is BoxState.Exited or BoxState.Failed;
}
