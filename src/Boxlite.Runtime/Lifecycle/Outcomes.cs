using System.Collections.Concurrent;

namespace Boxlite.Runtime;

/// <summary>How a box ended: its final record (Exited, Failed or Unknown) and the reap that ended it, if one did.</summary>
/// <param name="Record">The record as it was made final, kept even when the box is removed right after (auto-remove).</param>
/// <param name="Reap">The reap that ended the box, when this process did it.</param>
internal sealed record BoxOutcome(BoxInfo Record, ReapReport? Reap);

/// <summary>
/// The exit event every waiter of this process shares: one task per box, completed by whichever code path of this
/// process first sees the box reach its outcome (a stop, a noticed exit, a failed start, recovery) or be removed
/// (null). A handle that holds the task keeps the outcome even after the record is gone.
/// </summary>
internal sealed class Outcomes
{
    private readonly ConcurrentDictionary<BoxId, TaskCompletionSource<BoxOutcome?>> _pending = new();

    /// <summary>States that end a wait: the box will not run again by itself.</summary>
    public static bool IsOutcome(BoxState state) => state is BoxState.Exited or BoxState.Failed or BoxState.Unknown;

    /// <summary>The outcome of <paramref name="id"/> as this process will see it.</summary>
    public Task<BoxOutcome?> Of(BoxId id) =>
        _pending.GetOrAdd(id, _ => new TaskCompletionSource<BoxOutcome?>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Completes the waiters of a box that reached its outcome (a record in an outcome state) or is gone (null).</summary>
    public void Publish(BoxId id, BoxOutcome? outcome)
    {
        if (_pending.TryRemove(id, out var waiters))
        {
            waiters.TrySetResult(outcome);
        }
    }

    /// <summary>Publishes what a look at the store found, when it is an outcome or the box is gone.</summary>
    public void Observe(BoxId id, BoxInfo? record)
    {
        if (record is null || IsOutcome(record.State))
        {
            Publish(id, record is null ? null : new BoxOutcome(record, null));
        }
    }
}
