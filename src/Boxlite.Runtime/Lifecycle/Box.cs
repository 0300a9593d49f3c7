using System.Runtime.CompilerServices;
using System.Text;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

/// <summary>A handle on one box; all state lives in the store and the box directory.</summary>
internal sealed class Box(BoxRuntime runtime, BoxInfo info) : IBox
{
    private static readonly TimeSpan PollMin = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan PollMax = TimeSpan.FromMilliseconds(100);

    public BoxId Id => Info.Id;

    public BoxInfo Info { get; private set; } = info;

    public async Task<BoxInfo> RefreshAsync(CancellationToken cancellationToken = default)
    {
        var current = await runtime.Store.GetAsync(Id, cancellationToken).ConfigureAwait(false)
            ?? throw new BoxNotFoundException(Id.Value);
        if (current.State is BoxState.Running or BoxState.Paused && runtime.HasFinished(current))
        {
            current = await runtime.FinalizeExitAsync(current, cancellationToken).ConfigureAwait(false)
                ?? throw new BoxNotFoundException(Id.Value);
        }

        return Info = current;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        runtime.ThrowIfDisposed();
        var current = await runtime.Store.GetAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(Id.Value);
        if (current.State != BoxState.Created || current.StatusReason == BoxRuntime.StartingReason)
        {
            throw new InvalidBoxStateException(Id, current.State, current.State == BoxState.Created ? "it is already being started" : "only a created box can be started");
        }

        // Claim the start (compare-and-set): a concurrent starter loses here, before anything exists.
        var claimed = await runtime.Store.TryUpdateAsync(
            current with
            {
                StatusReason = BoxRuntime.StartingReason,
                Owner = runtime.Platform.CurrentProcess,
                Reaper = runtime.Platform.Reaper.Name,
                Containment = (runtime.Platform as IContainmentLocator)?.Locate(Id),
            },
            cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidBoxStateException(Id, current.State, "another caller changed it while starting");
        Info = claimed;

        using var activity = BoxliteDiagnostics.ActivitySource.StartActivity("boxlite.start");
        activity?.SetTag("boxlite.box.id", Id.Value);
        var context = runtime.Context(claimed);
        MonitorProcess? monitor = null;
        try
        {
            runtime.CreateBoxDirectories(Id);
            var plan = await runtime.Platform.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
            runtime.Crash("start:after-prepare");
            monitor = await MonitorProcess.StartAsync(context, plan, runtime.Options.MaxLogBytes, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            runtime.Crash("start:after-launch");

            // G1: nothing of the command runs until the monitor is proven inside the containment.
            await runtime.Platform.VerifyContainedAsync(context, monitor.Pid, cancellationToken).ConfigureAwait(false);
            var identity = runtime.Platform.TryGetIdentity(monitor.Pid)
                ?? throw new BoxStartException(Id, $"the box monitor (pid {monitor.Pid}) vanished during start");

            var running = await runtime.Store.TryUpdateAsync(
                claimed with
                {
                    State = BoxState.Running,
                    StatusReason = null,
                    Monitor = identity,
                    Owner = claimed.Options.Detached ? null : runtime.Platform.CurrentProcess,
                    StartedAt = runtime.Time.GetUtcNow(),
                },
                cancellationToken).ConfigureAwait(false)
                ?? throw new BoxStartException(Id, "the record changed while starting");
            runtime.Crash("start:after-running");
            monitor.Go(claimed.Options.Detached);
            runtime.TrackMonitor(running, monitor);
            Info = running;
            runtime.Metrics.BoxesStarted.Add(1);
            Log.BoxStarted(runtime.Logger, Id, monitor.Pid, runtime.Platform.Reaper.Name);
        }
        catch (Exception e)
        {
            monitor?.Abort();
            await FailStartAsync(e).ConfigureAwait(false);
            if (e is BoxliteException or OperationCanceledException)
            {
                throw;
            }

            throw new BoxStartException(Id, e.Message, e);
        }
    }

    public async Task<ReapReport> StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        var grace = timeout ?? current.Options.StopTimeout ?? runtime.Options.DefaultStopTimeout;
        while (true)
        {
            switch (current.State)
            {
                case BoxState.Created:
                case BoxState.Exited:
                case BoxState.Failed:
                    return ReapReport.Nothing(runtime.Platform.Reaper.Name, runtime.Platform.Reaper.Guarantee);
                case BoxState.Stopping:
                    // Another caller (task or process) does the work; wait for its result.
                    Info = current = await WaitWhileStoppingAsync(grace, cancellationToken).ConfigureAwait(false);
                    if (current.State == BoxState.Stopping)
                    {
                        throw new InvalidBoxStateException(Id, current.State, "another caller is stopping it and has not finished");
                    }

                    continue;
            }

            // While stopping, Owner names the stopper, so recovery can finish a stop whose stopper died.
            var stopping = await runtime.Store.TryUpdateAsync(current with { State = BoxState.Stopping, Owner = runtime.Platform.CurrentProcess }, cancellationToken).ConfigureAwait(false);
            if (stopping is null)
            {
                current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            Info = stopping;
            runtime.Crash("stop:after-stopping");
            return await StopOwnedAsync(stopping, current.State, grace, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        var current = await RequireStateAsync(BoxState.Running, "only a running box can be paused", cancellationToken).ConfigureAwait(false);
        await runtime.Platform.SetFrozenAsync(runtime.Context(current), true, cancellationToken).ConfigureAwait(false);
        var paused = await runtime.Store.TryUpdateAsync(current with { State = BoxState.Paused }, cancellationToken).ConfigureAwait(false);
        if (paused is null)
        {
            await runtime.Platform.SetFrozenAsync(runtime.Context(current), false, CancellationToken.None).ConfigureAwait(false);
            var now = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidBoxStateException(Id, now.State, "its state changed while pausing");
        }

        Info = paused;
    }

    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        var current = await RequireStateAsync(BoxState.Paused, "only a paused box can be resumed", cancellationToken).ConfigureAwait(false);
        await runtime.Platform.SetFrozenAsync(runtime.Context(current), false, cancellationToken).ConfigureAwait(false);
        Info = await runtime.Store.TryUpdateAsync(current with { State = BoxState.Running }, cancellationToken).ConfigureAwait(false)
            ?? await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<int> WaitAsync(CancellationToken cancellationToken = default)
    {
        var delay = PollMin;
        while (true)
        {
            var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
            switch (current.State)
            {
                case BoxState.Exited:
                    return current.ExitCode ?? -1;
                case BoxState.Failed:
                    throw new InvalidBoxStateException(Id, current.State, current.StatusReason ?? "it failed to start");
                case BoxState.Unknown:
                    throw new InvalidBoxStateException(Id, current.State, current.StatusReason ?? "its outcome is unknown");
            }

            if (runtime.MonitorOf(Id) is { } monitor && current.State is BoxState.Running or BoxState.Paused)
            {
                await monitor.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
                delay = PollMin;
                continue;
            }

            await Task.Delay(delay, runtime.Time, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 > PollMax ? PollMax : delay * 2;
        }
    }

    public async Task<BoxExecResult> ExecAsync(string command, IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var code = await ExecStreamAsync(
            command,
            args,
            line => (line.Source == BoxLogSource.StandardOutput ? stdout : stderr).Append(line.Text).Append('\n'),
            cancellationToken).ConfigureAwait(false);
        return new BoxExecResult(code, stdout.ToString(), stderr.ToString());
    }

    public async Task<int> ExecStreamAsync(string command, IReadOnlyList<string> args, Action<BoxLogLine> onOutput, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onOutput);
        var options = Info.Options with { Command = command, Args = args ?? [] };
        BoxRuntime.ThrowIfInvalid(options.Validate());
        var current = await RequireStateAsync(BoxState.Running, "exec needs a running box", cancellationToken).ConfigureAwait(false);
        var context = runtime.Context(current);
        BoxRuntime.ThrowIfInvalid(BoxEnvironment.CommandProblems(current.Options, command, context.CommandDirectory));
        var plan = await runtime.Platform.PrepareExecAsync(context, cancellationToken).ConfigureAwait(false);
        return await BoxExec.RunAsync(context, plan, command, options.Args, stdin: null, onOutput, cancellationToken).ConfigureAwait(false);
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

    internal async Task<ReapReport> StopOwnedAsync(BoxInfo stopping, BoxState was, TimeSpan grace, CancellationToken cancellationToken)
    {
        var context = runtime.Context(stopping);
        if (grace > TimeSpan.Zero && runtime.IsMonitorAlive(stopping))
        {
            if (was == BoxState.Paused)
            {
                // A frozen command cannot act on its stop signal.
                await runtime.Platform.SetFrozenAsync(context, false, cancellationToken).ConfigureAwait(false);
            }

            await runtime.Platform.SignalCommandAsync(context, stopping.Options.StopSignal, cancellationToken).ConfigureAwait(false);
            await WaitForExitStatusAsync(stopping, grace, cancellationToken).ConfigureAwait(false);
        }

        ReapReport report;
        try
        {
            report = await runtime.ReapAsync(stopping, cancellationToken).ConfigureAwait(false);
        }
        catch (ReapTimeoutException e)
        {
            // G2: never report success with survivors; leave the box where a later stop or remove can retry.
            Info = await runtime.Store.TryUpdateAsync(stopping with { State = BoxState.Unknown, StatusReason = e.Message }, CancellationToken.None).ConfigureAwait(false) ?? stopping;
            throw;
        }

        runtime.Crash("stop:after-reap");
        var status = ExitStatus.TryRead(context);
        var exited = stopping with
        {
            State = BoxState.Exited,
            ExitCode = status?.Code ?? 128 + 9,
            KilledBy = status is null || status.Reason == ExitStatus.HostGone ? "KILL" : null,
            FinishedAt = runtime.Time.GetUtcNow(),
            StatusReason = report.OutOfMemoryReason ?? (status is null ? $"reaped by {report.Method}" : null),
        };
        var stored = await runtime.Store.TryUpdateAsync(exited, CancellationToken.None).ConfigureAwait(false)
            ?? throw new InvalidBoxStateException(Id, BoxState.Stopping, "the record changed while stopping");
        runtime.ForgetMonitor(Id);
        Log.BoxExited(runtime.Logger, Id, stored.ExitCode);
        Info = stored;
        await runtime.AutoRemoveAsync(stored, CancellationToken.None).ConfigureAwait(false);
        return report;
    }

    private async Task WaitForExitStatusAsync(BoxInfo info, TimeSpan grace, CancellationToken cancellationToken)
    {
        var context = runtime.Context(info);
        var deadline = runtime.Time.GetTimestamp() + (long)(grace.TotalSeconds * runtime.Time.TimestampFrequency);
        var delay = PollMin;
        while (!runtime.HasFinished(info) && runtime.Time.GetTimestamp() < deadline)
        {
            await Task.Delay(delay, runtime.Time, cancellationToken).ConfigureAwait(false);
            delay = delay * 2 > PollMax ? PollMax : delay * 2;
        }
    }

    private async Task<BoxInfo> WaitWhileStoppingAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        var limit = grace + runtime.Options.ReapTimeout + TimeSpan.FromSeconds(5);
        var deadline = runtime.Time.GetTimestamp() + (long)(limit.TotalSeconds * runtime.Time.TimestampFrequency);
        while (true)
        {
            var current = await runtime.Store.GetAsync(Id, cancellationToken).ConfigureAwait(false) ?? throw new BoxNotFoundException(Id.Value);
            if (current.State != BoxState.Stopping || runtime.Time.GetTimestamp() >= deadline)
            {
                return current;
            }

            if (current.Owner is not { } stopper || !runtime.Platform.IsAlive(stopper))
            {
                // The stopper died half-way: finish its work.
                await StopOwnedAsync(current, BoxState.Stopping, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await Task.Delay(PollMax, runtime.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<BoxInfo> RequireStateAsync(BoxState state, string what, CancellationToken cancellationToken)
    {
        var current = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (current.State != state)
        {
            throw new InvalidBoxStateException(Id, current.State, what);
        }

        return current;
    }

    private async Task FailStartAsync(Exception cause)
    {
        Log.BoxStartFailed(runtime.Logger, Id, cause.Message, cause);
        try
        {
            // Nothing of the command ran (no "go"); remove whatever containment was made.
            await runtime.ReapAsync(Info, CancellationToken.None).ConfigureAwait(false);
        }
        catch (BoxliteException e)
        {
            Log.ReapFailed(runtime.Logger, Id, e.Message, e);
        }

        var current = await runtime.Store.GetAsync(Id, CancellationToken.None).ConfigureAwait(false);
        if (current is { State: BoxState.Created })
        {
            Info = await runtime.Store.TryUpdateAsync(
                current with { State = BoxState.Failed, StatusReason = cause.Message, FinishedAt = runtime.Time.GetUtcNow() },
                CancellationToken.None).ConfigureAwait(false) ?? current;
        }
    }
}
