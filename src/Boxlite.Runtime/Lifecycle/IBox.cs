using System.Diagnostics.CodeAnalysis;

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

    /// <summary>Starts a created box: containment first, then the monitor and the command (its stdin: <c>/dev/null</c>).</summary>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The input has no default: no call is ambiguous.")]
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a created box as <see cref="StartAsync(CancellationToken)"/> does, its command reading <paramref name="stdin"/>.
    /// </summary>
    /// <param name="stdin">
    /// What the command reads on its stdin (null: <c>/dev/null</c>). It is fed from this process as the command reads,
    /// then closed (end of file); a command that exits before reading it all does not get the rest. The input ends when
    /// it is fully written, when the box's exit is noticed or the box removed, or when the runtime is disposed (or this
    /// process ends), whichever comes first, even while a process the command left behind holds it unread.
    /// </param>
    /// <param name="cancellationToken">Cancels the start; the box is then <see cref="BoxState.Failed"/>.</param>
    /// <exception cref="PlatformCapabilityException">
    /// <paramref name="stdin"/> is given and the platform cannot give a box's command a stdin (macOS); the box is then
    /// <see cref="BoxState.Failed"/>.
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0026", Justification = "The input has no default: no call is ambiguous.")]
    Task StartAsync(BoxInput? stdin, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends the stop signal to the command, waits up to <paramref name="timeout"/> (default: the box's stop
    /// timeout) for it to exit, then reaps the whole tree. Returns once the tree is confirmed gone; idempotent.
    /// Concurrent stops of one box in one process are one stop, and each caller gets its report; a stop another
    /// process is doing is waited for (this call then reports nothing killed).
    /// </summary>
    /// <param name="timeout">The grace period between the stop signal and the reap.</param>
    /// <param name="cancellationToken">
    /// Cuts the grace period short: the tree is reaped at once and the stop completes (a stop is never left half done),
    /// so cancelling never throws <see cref="OperationCanceledException"/>.
    /// </param>
    /// <exception cref="ReapTimeoutException">Processes survived the reap; the box is left <see cref="BoxState.Unknown"/>.</exception>
    Task<ReapReport> StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Freezes every process of the box.</summary>
    Task PauseAsync(CancellationToken cancellationToken = default);

    /// <summary>Thaws a paused box.</summary>
    Task ResumeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for the box to exit and returns its exit code, also when the box was auto-removed as it exited. Waiting
    /// never changes the box: cancelling leaves it running (stop it with <see cref="StopAsync"/>).
    /// </summary>
    /// <exception cref="InvalidBoxStateException">The box failed to start, or its outcome is unknown.</exception>
    Task<int> WaitAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> (null or <see cref="Timeout.InfiniteTimeSpan"/>: without limit) for the box to
    /// exit and returns its exit code. Waiting never changes the box: when the time is up it keeps running, and
    /// <c>catch (TimeoutException) { await box.StopAsync(); }</c> is how to end it; cancelling leaves it running too.
    /// </summary>
    /// <exception cref="TimeoutException">The box did not exit in time (it keeps running).</exception>
    /// <exception cref="InvalidBoxStateException">The box failed to start, or its outcome is unknown.</exception>
    Task<int> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Runs a command inside the running box (same containment and namespaces) and collects its output.</summary>
    Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a command inside the running box (same containment and namespaces), feeding it <paramref name="stdin"/>
    /// (null: an empty input), and collects its output: each stream up to <see cref="BoxliteOptions.MaxLogBytes"/>
    /// characters, beyond which it is read and dropped. The buffered form of <see cref="ExecStreamAsync"/>.
    /// </summary>
    Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, BoxInput? stdin = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a command inside the running box (same containment and namespaces), feeding it <paramref name="stdin"/>,
    /// as a stream of its output lines in arrival order; once enumerated to the end, <see cref="BoxExecution.ExitCode"/>
    /// holds its exit code. Nothing runs until the enumeration begins; ending it early kills the command's process.
    /// </summary>
    BoxExecution ExecStreamAsync(string command, IReadOnlyList<string> args, BoxInput? stdin = null, CancellationToken cancellationToken = default);

    /// <summary>Resource use of the whole box.</summary>
    Task<BoxMetrics> GetMetricsAsync(CancellationToken cancellationToken = default);

    /// <summary>The box's output lines; with <paramref name="follow"/>, keeps reading until the box exits or the token fires.</summary>
    IAsyncEnumerable<BoxLogLine> ReadLogsAsync(bool follow = false, CancellationToken cancellationToken = default);

    /// <summary>The processes of the box now.</summary>
    Task<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(CancellationToken cancellationToken = default);
}
