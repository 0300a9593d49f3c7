using System.Runtime.CompilerServices;
using System.Text;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

/// <summary>A handle on one box; all state lives in the store and the box directory, every transition in <see cref="BoxLifecycle"/>.</summary>
internal sealed class Box(BoxRuntime runtime, BoxInfo info, Task<BoxOutcome?>? outcome = null) : IBox
{

    // The box's outcome as this process sees it, held from the start (or the first look at a live box), so that a wait
    // still learns the exit code of a box removed right after it ended (auto-remove).
    private Task<BoxOutcome?>? _outcome = outcome;

    public BoxId Id => Info.Id;

    public BoxInfo Info { get; private set; } = info;

    private BoxLifecycle Lifecycle => runtime.Lifecycle;

    /// <summary>The outcome this handle waits for.</summary>
    internal Task<BoxOutcome?> OutcomeTask => _outcome ??= Lifecycle.OutcomeOf(Id);

    public async Task<BoxInfo> RefreshAsync(CancellationToken cancellationToken = default) =>
        Info = await Lifecycle.LookAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(Id.Value);

    public Task StartAsync(CancellationToken cancellationToken = default) => StartAsync(null, cancellationToken);

    public async Task StartAsync(BoxInput? stdin, CancellationToken cancellationToken = default)
    {
        runtime.ThrowIfDisposed();
        _ = OutcomeTask;
        Info = await Lifecycle.StartAsync(Id, stdin, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReapReport> StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        runtime.ThrowIfDisposed();
        var stopped = await Lifecycle.StopAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
        Info = stopped.Final ?? Info;
        return stopped.Report;
    }

    public async Task PauseAsync(CancellationToken cancellationToken = default) =>
        Info = await Lifecycle.PauseAsync(Id, cancellationToken).ConfigureAwait(false);

    public async Task ResumeAsync(CancellationToken cancellationToken = default) =>
        Info = await Lifecycle.ResumeAsync(Id, cancellationToken).ConfigureAwait(false);

    public async Task<int> WaitAsync(CancellationToken cancellationToken)
    {
        var outcome = await Lifecycle.WaitAsync(Id, OutcomeTask, cancellationToken).ConfigureAwait(false);
        Info = outcome.Record;
        return ExitCodeOf(outcome.Record);
    }

    public async Task<int> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (timeout is not { } limit || limit == Timeout.InfiniteTimeSpan)
        {
            return await WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await WaitAsync(cancellationToken).WaitAsync(limit, runtime.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"box {Id} did not exit within {limit}; it keeps running", e);
        }
    }

    /// <summary>The exit code of a box's outcome; a box that failed or whose outcome is unknown has none.</summary>
    internal static int ExitCodeOf(BoxInfo outcome) => outcome.State switch
    {
        BoxState.Exited => outcome.ExitCode ?? -1,
        BoxState.Failed => throw new InvalidBoxStateException(outcome.Id, outcome.State, outcome.StatusReason ?? "it failed to start"),
        _ => throw new InvalidBoxStateException(outcome.Id, outcome.State, outcome.StatusReason ?? "its outcome is unknown"),
    };

    public Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, CancellationToken cancellationToken) =>
        ExecAsync(command, args, null, cancellationToken);

    public async Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, BoxInput? stdin = null, CancellationToken cancellationToken = default)
    {
        // Bounded like the box's own logs: beyond the cap a stream is still read, and dropped.
        var cap = runtime.Options.MaxLogBytes;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var exec = ExecStreamAsync(command, args, stdin, cancellationToken);
        await foreach (var line in exec.ConfigureAwait(false))
        {
            var text = line.Source == BoxLogSource.StandardOutput ? stdout : stderr;
            if (text.Length < cap)
            {
                text.Append(line.Text, 0, (int)Math.Min(line.Text.Length, cap - text.Length)).Append('\n');
            }
        }

        return new BoxExecResult(exec.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public BoxExecution ExecStreamAsync(string command, IReadOnlyList<string> args, BoxInput? stdin = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        return new BoxExecution((execution, token) => ExecLinesAsync(command, args ?? [], stdin, execution, token), cancellationToken);
    }

    private async IAsyncEnumerable<BoxLogLine> ExecLinesAsync(
        string command, IReadOnlyList<string> args, BoxInput? stdin, BoxExecution execution, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = Info.Options with { Command = command, Args = args };
        BoxRuntime.ThrowIfInvalid(options.Validate());
        var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (current.State != BoxState.Running)
        {
            throw new InvalidBoxStateException(Id, current.State, "exec needs a running box");
        }

        var context = runtime.Context(current);
        BoxRuntime.ThrowIfInvalid(BoxEnvironment.CommandProblems(current.Options, command, context.CommandDirectory));
        var plan = await runtime.Platform.PrepareExecAsync(context, cancellationToken).ConfigureAwait(false);
        using var process = BoxExec.Start(context, plan, command, args, redirectInput: stdin is not null);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feeding = stdin is null ? Task.CompletedTask : stdin.FeedAsync(process.Input!, stop.Token);
        var output = BoxExec.ReadLines(process, stop.Token);
        execution.Pumping = output.Pumping;

        var done = false;
        try
        {
            await foreach (var line in output.Lines.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return line;
            }

            execution.Exited(await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false));
            done = true;
        }
        finally
        {
            if (!done)
            {
                // Ended early or cancelled. The exec'd tree lives in the box's containment; only the process we started
                // is ours to kill here.
                process.Kill();
            }

            // Nothing that feeds or reads the process outlives the enumeration, whatever of its tree holds the pipes.
            await stop.CancelAsync().ConfigureAwait(false);
            await feeding.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    public async Task<BoxMetrics> GetMetricsAsync(CancellationToken cancellationToken = default)
    {
        var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (current.State is not (BoxState.Running or BoxState.Paused))
        {
            throw new InvalidBoxStateException(Id, current.State, "metrics need a running box");
        }

        return await runtime.Platform.GetMetricsAsync(runtime.Context(current), cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(CancellationToken cancellationToken = default)
    {
        var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return await runtime.Platform.Reaper.ListProcessesAsync(runtime.Context(current), cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<BoxLogLine> ReadLogsAsync(bool follow = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Both streams in the order the monitor received them; with follow, until the box is final and its log drained.
        var log = Path.Combine(runtime.DirectoryOf(Id), BoxLog.FileName);
        await foreach (var line in BoxLog.ReadAsync(log, follow ? WaitQuietlyAsync : null, runtime.Time, cancellationToken).ConfigureAwait(false))
        {
            yield return line;
        }
    }

    /// <summary>Completes when the box is final (however it ended).</summary>
    private async Task WaitQuietlyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (BoxliteException)
        {
        }
    }
}
