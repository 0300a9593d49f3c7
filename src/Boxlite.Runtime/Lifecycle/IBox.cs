namespace Boxlite.Runtime;

/// <summary>A handle on one box. Cheap; any number may exist for one box, in any number of processes.</summary>
public interface IBox
{
    /// <summary>The box id.</summary>
    BoxId Id { get; }

    /// <summary>The record as last read or written through this handle (see <see cref="RefreshAsync"/>).</summary>
    BoxInfo Info { get; }

    /// <summary>Re-reads the record (and notices an exit that happened while nobody watched).</summary>
    Task<BoxInfo> RefreshAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a created box: containment first, then the monitor and the command.</summary>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends the stop signal to the command, waits up to <paramref name="timeout"/> (default: the box's stop
    /// timeout) for it to exit, then reaps the whole tree. Returns once the tree is confirmed gone; idempotent.
    /// </summary>
    Task<ReapReport> StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Freezes every process of the box.</summary>
    Task PauseAsync(CancellationToken cancellationToken = default);

    /// <summary>Thaws a paused box.</summary>
    Task ResumeAsync(CancellationToken cancellationToken = default);

    /// <summary>Waits for the box to exit and returns its exit code.</summary>
    Task<int> WaitAsync(CancellationToken cancellationToken = default);

    /// <summary>Runs a command inside the running box (same containment and namespaces) and collects its output.</summary>
    Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, CancellationToken cancellationToken = default);

    /// <summary>Runs a command inside the running box, streaming its output lines; <paramref name="onOutput"/> is called per line.</summary>
    Task<int> ExecStreamAsync(string command, IReadOnlyList<string> args, Action<BoxLogLine> onOutput, CancellationToken cancellationToken = default);

    /// <summary>Resource use of the whole box.</summary>
    Task<BoxMetrics> GetMetricsAsync(CancellationToken cancellationToken = default);

    /// <summary>The box's output lines; with <paramref name="follow"/>, keeps reading until the box exits or the token fires.</summary>
    IAsyncEnumerable<BoxLogLine> ReadLogsAsync(bool follow = false, CancellationToken cancellationToken = default);

    /// <summary>The processes of the box now.</summary>
    Task<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(CancellationToken cancellationToken = default);
}
