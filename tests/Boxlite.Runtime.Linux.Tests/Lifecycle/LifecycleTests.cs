using System.Collections.Concurrent;
using Boxlite.Runtime.Tests;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>The whole lifecycle on the real Linux platform: real processes, real cgroups, real second processes.</summary>
public sealed class LifecycleTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    /// <summary>A few seconds: the design's ~2 s with room for a loaded machine.</summary>
    private static readonly TimeSpan AttachedReapBound = TimeSpan.FromSeconds(5);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_attached_box_is_reaped_within_seconds_when_its_host_is_SIGKILLed()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var host = StartHost(home, ["run", home.Home, home.CgroupParent, "attached", "None", "1", .. home.TreeArgv("sleep 1000 & sleep 1000 & wait")]);
        var id = BoxId.Parse(await host.WaitForLineAsync("id ", Generous));
        (await LinuxHome.EventuallyAsync(() => home.CountTree() >= 3, Generous)).Should().BeTrue();

        host.KillHard();

        // The monitor notices EOF on its host pipe and kills the box itself; the design's bound is about 2 s.
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() == 0, AttachedReapBound)).Should()
            .BeTrue($"the box is reaped within {AttachedReapBound.TotalSeconds} s of its host's death; survivors: {string.Join(",", home.Marked())}");
        var recovery = await home.Runtime.RecoverAsync(Token);
        var info = await home.Runtime.Store.GetAsync(id, Token);
        info!.State.Should().Be(BoxState.Exited);
        info.KilledBy.Should().Be("KILL");
        recovery.StillRunning.Should().Be(0);
        home.LeftoverCgroups().Should().BeEmpty();
    }

    [Fact]
    public async Task A_detached_box_survives_its_host_and_a_second_process_lists_execs_stops_and_removes_it()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var host = StartHost(home, ["run", home.Home, home.CgroupParent, "detached", "PidNamespace", "1", .. home.TreeArgv("sleep 1000 & sleep 1000 & wait")]);
        var id = await host.WaitForLineAsync("id ", Generous);
        (await LinuxHome.EventuallyAsync(() => home.CountTree() >= 3, Generous)).Should().BeTrue();

        host.KillHard();
        await Task.Delay(500, Token);

        home.CountTree().Should().BeGreaterThanOrEqualTo(3);
        await using var second = home.Open();
        (await second.RecoverAsync(Token)).StillRunning.Should().Be(1);
        (await second.ListAsync(Token)).Should().ContainSingle(b => b.Id.Value == id && b.State == BoxState.Running);
        var box = await second.GetAsync(id, Token);
        (await box.ExecAsync("/bin/sh", ["-c", "echo inside"], Token)).StandardOutput.Should().Be("inside\n");
        await box.StopAsync(TimeSpan.FromSeconds(5), Token);
        await second.RemoveAsync(id, cancellationToken: Token);

        home.CountMarked().Should().Be(0);
        home.LeftoverCgroups().Should().BeEmpty();
        (await second.ListAsync(Token)).Should().BeEmpty();
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task The_stop_signal_reaches_the_command_through_each_isolation(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("trap 'echo trapped; exit 42' TERM; echo ready; while :; do sleep 0.05; done", isolation), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        await box.StopAsync(TimeSpan.FromSeconds(10), Token);

        var info = await box.RefreshAsync(Token);
        info.State.Should().Be(BoxState.Exited);
        info.ExitCode.Should().Be(42);
        info.KilledBy.Should().BeNull();
        home.CountMarked().Should().Be(0);
        Directory.Exists(home.V2BoxDirectory(box.Id)).Should().BeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_exit_while_no_host_runs_is_recorded_and_honoured_at_recovery(bool autoRemove)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var host = StartHost(home, "run", home.Home, home.CgroupParent, "detached", "None", "1", "/bin/sh", "-c", "read _ < /dev/null; sleep 1; exit 7");
        var id = BoxId.Parse(await host.WaitForLineAsync("id ", Generous));
        host.KillHard();
        if (autoRemove)
        {
            var record = await home.Runtime.Store.GetAsync(id, Token);
            await home.Runtime.Store.TryUpdateAsync(record! with { Options = record.Options with { AutoRemove = true } }, Token);
        }

        // No runtime watches now; the monitor alone records the exit.
        var exitFile = Path.Combine(home.Runtime.DirectoryOf(id), "exit");
        (await LinuxHome.EventuallyAsync(() => File.Exists(exitFile), Generous)).Should().BeTrue();
        var report = await home.Runtime.RecoverAsync(Token);

        report.MarkedExited.Should().Be(1);
        var info = await home.Runtime.Store.GetAsync(id, Token);
        if (autoRemove)
        {
            info.Should().BeNull();
            Directory.Exists(home.Runtime.DirectoryOf(id)).Should().BeFalse();
        }
        else
        {
            info!.ExitCode.Should().Be(7);
            info.State.Should().Be(BoxState.Exited);
        }

        home.LeftoverCgroups().Should().BeEmpty();
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task Exec_returns_output_and_exit_code_and_what_it_leaves_running_is_reaped_with_the_box(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("echo ready; sleep 1000", isolation), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");
        var before = home.CountMarked();

        var result = await box.ExecAsync("/bin/sh", ["-c", "sleep 1000 >/dev/null 2>&1 & echo started; echo warn >&2; exit 3"], Token);

        result.Should().Be(new BoxExecResult(3, "started\n", "warn\n"));
        home.CountMarked().Should().BeGreaterThan(before);
        await box.StopAsync(TimeSpan.FromSeconds(5), Token);
        home.CountMarked().Should().Be(0);
    }

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task Exec_in_a_namespaced_box_runs_in_the_box_PID_namespace(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("echo ready; sleep 1000", isolation), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var result = await box.ExecAsync("/bin/sh", ["-c", "ls /proc | grep -c '^[0-9]'"], Token);

        // The host has far more processes than the few a fresh namespace holds.
        int.Parse(result.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(12);
    }

    [Fact]
    public async Task Pause_freezes_every_process_and_resume_thaws_them()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var counter = Path.Combine(home.Home, "counter");
        var box = await home.Runtime.RunAsync(home.Sh(Counting.DaemonScript(counter) + "; sleep 1000"), Token);
        (await Counting.MovesPastAsync(counter, await Counting.ReadAsync(counter))).Should().BeTrue("the counter runs before the pause");

        var cgroup = home.V2BoxDirectory(box.Id);
        await box.PauseAsync(Token);
        var freeze = await File.ReadAllTextAsync(Path.Combine(cgroup, "cgroup.freeze"), Token);
        var events = await File.ReadAllTextAsync(Path.Combine(cgroup, "cgroup.events"), Token);
        var frozenAt = await Counting.ReadAsync(counter);
        await Counting.LetRoundsPassAsync();
        var stillAt = await Counting.ReadAsync(counter);
        await box.ResumeAsync(Token);
        var thawed = await File.ReadAllTextAsync(Path.Combine(cgroup, "cgroup.events"), Token);

        freeze.Trim().Should().Be("1", "pausing writes the box's cgroup.freeze");
        events.Should().Contain("frozen 1");
        thawed.Should().Contain("frozen 0");
        stillAt.Should().Be(frozenAt, "the daemonized counter, deep in the box's tree, is frozen too");
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Running);
        (await Counting.MovesPastAsync(counter, stillAt)).Should().BeTrue("resuming lets it count again");
        await box.PauseAsync(Token);
        await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);
        home.CountMarked().Should().Be(0);
    }

    [Fact]
    public async Task Metrics_come_from_the_whole_box()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("for i in 1 2 3 4 5; do sleep 1000 & done; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo ready; wait"), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var metrics = await box.GetMetricsAsync(Token);

        metrics.ProcessCount.Should().BeGreaterThanOrEqualTo(6);
        metrics.CpuTime.Should().BeGreaterThan(TimeSpan.Zero);
        metrics.MemoryCurrentBytes.Should().BeGreaterThan(0);
        metrics.MemoryPeakBytes.Should().BeGreaterThanOrEqualTo(metrics.MemoryCurrentBytes!.Value);
    }

    [Fact]
    public async Task Concurrent_stops_from_two_processes_do_the_work_once()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.ShTree("trap '' TERM; sleep 1000 & while :; do sleep 0.05; done"), Token);
        (await LinuxHome.EventuallyAsync(() => home.CountTree() >= 2, Generous)).Should().BeTrue("the TERM trap is set before the stops");

        using var a = StartHost(home, "stop", home.Home, home.CgroupParent, box.Id.Value);
        using var b = StartHost(home, "stop", home.Home, home.CgroupParent, box.Id.Value);
        await TestHostProcess.ReleaseTogetherAsync(Generous, a, b);
        var results = await Task.WhenAll(a.WaitAsync(Generous), b.WaitAsync(Generous));

        results.Should().OnlyContain(r => r.ExitCode == 0);
        TestHostProcess.Overlapped(results[0].Output, results[1].Output).Should().BeTrue("both stops run at the same time");
        results.Count(r => !r.Output.Contains("killed 0", StringComparison.Ordinal)).Should().Be(1);
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Exited);
        home.CountMarked().Should().Be(0);
    }

    [Fact]
    public async Task A_detached_box_with_a_thousand_process_nested_tree_is_reaped_to_zero_before_remove_returns()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var script = "for j in 1 2 3 4; do unshare --pid --fork --mount-proc sh -c 'i=0; while [ $i -lt 250 ]; do sleep 1000 & i=$((i+1)); done; wait' & done; wait";
        var box = await home.Runtime.RunAsync(home.Sh(script, BoxIsolation.PidNamespace), Token);
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= 1000, TimeSpan.FromMinutes(2))).Should().BeTrue();

        var report = await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);

        report!.ProcessesKilled.Should().BeGreaterThanOrEqualTo(1000);
        home.CountMarked().Should().Be(0);
        home.LeftoverCgroups().Should().BeEmpty();
    }

    /// <summary>
    /// What recovery must leave of the box after its host was SIGKILLed at each step (null: no record), and what it
    /// must report having done.
    /// </summary>
    private static readonly Dictionary<string, (BoxState? State, RecoveryReport Report)> AfterRecovery = new()
    {
        // The creator died before it could return the box: a valid, never-started record, left alone.
        ["create:after-insert"] = (BoxState.Created, new RecoveryReport()),
        ["start:after-prepare"] = (BoxState.Failed, new RecoveryReport { CleanedHalfCreated = 1 }),
        ["start:after-launch"] = (BoxState.Failed, new RecoveryReport { CleanedHalfCreated = 1 }),

        // Recorded Running, but the monitor never got "go": it exits 125 without running the command.
        ["start:after-running"] = (BoxState.Exited, new RecoveryReport { MarkedExited = 1 }),
        ["stop:after-stopping"] = (BoxState.Exited, new RecoveryReport { FinishedStops = 1 }),
        ["stop:after-reap"] = (BoxState.Exited, new RecoveryReport { FinishedStops = 1 }),
        ["remove:after-reap"] = (BoxState.Exited, new RecoveryReport()),
        ["remove:after-record"] = (null, new RecoveryReport()),
    };

    public static TheoryData<string, bool> CrashPoints()
    {
        var data = new TheoryData<string, bool>();
        foreach (var point in AfterRecovery.Keys)
        {
            data.Add(point, false);
            data.Add(point, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CrashPoints))]
    public async Task A_host_killed_at_any_step_leaves_the_expected_record_and_nothing_else_after_recovery(string point, bool detached)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var host = StartHost(home, "crash", home.Home, home.CgroupParent, point, detached ? "detached" : "attached",
            "/bin/sh", "-c", "trap '' TERM; sleep 1000 & echo ready; while :; do sleep 0.05; done");
        (await host.WaitAsync(Generous)).Output.Should().Contain("crash " + point);
        if (detached && point == "stop:after-stopping")
        {
            // Nothing but recovery reaps a detached box whose stopper died before it signalled anything.
            home.CountMarked().Should().BeGreaterThanOrEqualTo(2);
        }
        else
        {
            // Every other box ends by itself: an attached monitor kills its box when its host goes, and a monitor that
            // never got "go" exits without running the command.
            (await LinuxHome.EventuallyAsync(() => home.CountMarked() == 0, Generous)).Should().BeTrue("survivors before recovery: " + string.Join(",", home.Marked()));
        }

        if (point == "start:after-running")
        {
            // The command never ran, so nothing marked tells that the monitor is done: its exit record does. Before it,
            // recovery would find the monitor still there and reap it as an orphan instead.
            var id = (await home.Runtime.Store.ListAsync(Token)).Single().Id;
            var exitFile = Path.Combine(home.Home, BoxliteHome.BoxesDirectoryName, id.Value, "exit");
            (await LinuxHome.EventuallyAsync(() => File.Exists(exitFile), Generous)).Should().BeTrue("the monitor that never got go records its exit");
        }

        var report = await home.Runtime.RecoverAsync(Token);

        var records = await home.Runtime.Store.ListAsync(Token);
        var because = $"after a crash at {point}; recovery: {report}";
        report.Should().Be(AfterRecovery[point].Report, because);
        if (AfterRecovery[point].State is { } expected)
        {
            var record = records.Should().ContainSingle(because).Subject;
            record.State.Should().Be(expected, because);
            if (point == "start:after-running")
            {
                record.ExitCode.Should().Be(125, because);
            }
            else if (point.StartsWith("stop:", StringComparison.Ordinal))
            {
                // The command ignores the stop signal: what ended it is a kill.
                record.KilledBy.Should().Be("KILL", because);
            }
        }
        else
        {
            records.Should().BeEmpty(because);
        }

        (await LinuxHome.EventuallyAsync(() => home.CountMarked() == 0, TimeSpan.FromSeconds(10))).Should().BeTrue("survivors: " + string.Join(",", home.Marked()));
        home.LeftoverCgroups().Should().BeEmpty();
        var directories = Directory.EnumerateDirectories(Path.Combine(home.Home, "boxes")).Select(Path.GetFileName).ToList();
        directories.Should().BeSubsetOf(records.Select(r => r.Id.Value));
    }

    [Fact]
    public async Task A_box_another_process_started_is_waited_on_until_it_exits_by_itself()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var host = StartHost(home, "run", home.Home, home.CgroupParent, "detached", "None", "1", "/bin/sh", "-c", "while [ ! -e go ]; do sleep 0.05; done; exit 6");
        var id = BoxId.Parse(await host.WaitForLineAsync("id ", Generous));
        var box = await home.Runtime.GetAsync(id, Token);

        // No event of the starting process reaches this one: the box monitor's exit, watched through its pidfd, does.
        var wait = box.WaitAsync(Token);
        await File.WriteAllTextAsync(Path.Combine(home.Home, "boxes", id.Value, "work", "go"), "", Token);

        (await wait.WaitAsync(Generous, Token)).Should().Be(6);
        host.KillHard();
    }

    [Fact]
    public async Task Every_wait_completes_while_another_caller_lists_and_so_finalizes_the_boxes()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var stopListing = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var lister = Task.Run(
            async () =>
            {
                while (!stopListing.IsCancellationRequested)
                {
                    await home.Runtime.ListAsync(stopListing.Token);
                }
            },
            Token);

        // Each box ends at once, so its start, its exit watcher and the lister meet; each wait begins before or after
        // the box is finalized.
        var waits = new ConcurrentBag<Task<int>>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Token }, async (_, token) =>
        {
            var box = await home.Runtime.RunAsync(home.Sh("echo x"), token);
            waits.Add(box.WaitAsync(Token));
        });
        var until = DateTime.UtcNow + Generous;
        while ((await home.Runtime.Store.ListAsync(Token)).Any(b => !Outcomes.IsOutcome(b.State)) && DateTime.UtcNow < until)
        {
            await Task.Delay(20, Token);
        }

        // Every record says its box ended: no wait has a reason to stay pending (the deadline only keeps a hang finite).
        await Task.WhenAny(Task.WhenAll(waits), Task.Delay(TimeSpan.FromSeconds(30), Token));
        await stopListing.CancelAsync();
        try
        {
            await lister;
        }
        catch (OperationCanceledException)
        {
        }

        waits.Count(w => !w.IsCompleted).Should().Be(0, "no wait stays pending after its record is final");
        (await Task.WhenAll(waits)).Should().OnlyContain(code => code == 0);
    }

    private static TestHostProcess StartHost(LinuxHome home, params string[] args) =>
        TestHostProcess.Start(new Dictionary<string, string> { ["BOX_MARKER"] = home.Marker }, args);
}
