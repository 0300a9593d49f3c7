using System.Diagnostics;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>Real boxes: the recorded-pid bug, the fallbacks, pid reuse, limits and signals.</summary>
public sealed class ContainmentTests : IDisposable
{
    private const string Shim = "sh -c 'sleep 1000 & sleep 1000 & wait' & sh -c 'sleep 1000 & wait' & wait";

    private readonly CgroupSandbox _sandbox = new();

    [Theory]
    [InlineData(BoxIsolation.Bubblewrap)]
    [InlineData(BoxIsolation.PidNamespace)]
    public async Task Killing_the_recorded_launcher_leaves_survivors_but_the_cgroup_reaper_leaves_none(BoxIsolation isolation)
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox(isolation);
        var plan = await platform.PrepareAsync(box, CancellationToken.None);
        box = _sandbox.LaunchTree(box, plan, Shim);
        await _sandbox.WaitForTreeAsync(box, 6);

        // The bug this library exists to avoid: the launcher (bwrap / unshare) is all the recorded pid names.
        Libc.kill(box.Info.Monitor!.Pid, LinuxSignals.Kill).Should().Be(0);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        _sandbox.MarkedProcesses().Should().NotBeEmpty("the inner PID-namespace tree outlives its launcher");

        var report = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);

        report.ProcessesKilled.Should().BeGreaterThan(0);
        (await _sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(2))).Should().BeEmpty();
        Directory.Exists(_sandbox.Layout.BoxDirectory(box.Id)).Should().BeFalse();
    }

    [Theory]
    [InlineData(BoxIsolation.Bubblewrap)]
    [InlineData(BoxIsolation.PidNamespace)]
    public async Task The_pid_namespace_init_reaper_kills_the_whole_namespace_without_a_cgroup(BoxIsolation isolation)
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform(PidNamespaceInitReaper.MethodName);
        var box = _sandbox.NewBox(isolation);
        box = await _sandbox.StartWithMonitorAsync(platform, box, "setsid sh -c 'sleep 1000 &' & " + Shim);

        // The tree in the namespace (the monitor's own processes are outside it).
        await CgroupSandbox.WaitUntilAsync(() => _sandbox.MarkedProcesses().Count(p => ProcFs.ReadNamespacePids(p) is { Length: > 1 }) >= 7);

        var report = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);

        report.Method.Should().Be(PidNamespaceInitReaper.MethodName);
        report.ProcessesKilled.Should().BeGreaterThanOrEqualTo(6);
        (await _sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(2))).Should().BeEmpty();
    }

    [Fact]
    public void The_pid_namespace_init_reaper_refuses_a_box_without_a_namespace()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform(PidNamespaceInitReaper.MethodName);

        var act = () => platform.EnsureSupported(new BoxOptions { Command = "sleep" });

        act.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Contain("isolation None");
    }

    [Fact]
    public async Task A_record_whose_pid_now_belongs_to_another_process_is_never_signalled()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        using var sleep = Process.Start("sleep", "1000");
        try
        {
            var real = ProcessSignaller.TryGetIdentity(sleep.Id)!;
            var stale = real with { StartTime = real.StartTime - 1 };
            var box = _sandbox.NewBox();
            box = box with { Info = box.Info with { Monitor = stale } };
            await File.WriteAllTextAsync(box.ChildPidFile, $"{sleep.Id}\n", TestContext.Current.CancellationToken);
            var platform = _sandbox.Platform(SinglePidReaper.MethodName);

            platform.IsAlive(stale).Should().BeFalse();
            ProcessSignaller.TrySignal(stale, LinuxSignals.Kill).Should().BeFalse();
            (await platform.SignalCommandAsync(box, "KILL", CancellationToken.None)).Should().Be(0);
            (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(2), CancellationToken.None)).ProcessesKilled.Should().Be(0);

            await Task.Delay(100, TestContext.Current.CancellationToken);
            sleep.HasExited.Should().BeFalse();
        }
        finally
        {
            sleep.Kill();
            await sleep.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task A_pids_limit_stops_a_fork_bomb()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        Assert.SkipWhen(_sandbox.Layout.Support("pids").Backend == LimitBackend.None, "the pids controller is not usable here");
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox(limits: new BoxLimits { PidsMax = 40 });
        var plan = await platform.PrepareAsync(box, CancellationToken.None);
        box = _sandbox.LaunchTree(box, plan, "exec perl -e 'while (1) { fork }'");
        await _sandbox.WaitForTreeAsync(box, 30);

        var count = (await platform.GetMetricsAsync(box, CancellationToken.None)).ProcessCount;

        count.Should().BeLessThanOrEqualTo(40);
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None)).ContainmentRemoved.Should().BeTrue();
        (await _sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(2))).Should().BeEmpty();
    }

    [Fact]
    public async Task A_memory_limit_stops_an_allocator()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        Assert.SkipWhen(_sandbox.Layout.Support("memory").Backend == LimitBackend.None, _sandbox.Layout.Support("memory").Detail);
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox(limits: new BoxLimits { MemoryBytes = 32L << 20 });
        box = await _sandbox.StartWithMonitorAsync(platform, box, "exec perl -e '$x = \"a\" x (256 * 1024 * 1024); print length $x'");

        await CgroupSandbox.WaitUntilAsync(() => File.Exists(box.ExitFile));

        (await File.ReadAllLinesAsync(box.ExitFile, TestContext.Current.CancellationToken))[0].Should().Be("137", "the allocator is OOM-killed (128 + SIGKILL)");
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None)).ContainmentRemoved.Should().BeTrue();
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task The_stop_signal_reaches_the_command_itself_through_the_launcher(BoxIsolation isolation)
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox(isolation);
        box = await _sandbox.StartWithMonitorAsync(platform, box, "trap 'exit 7' TERM; touch ready; while :; do sleep 0.05; done");
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(Path.Combine(box.WorkDirectory, "ready")));

        var signalled = await platform.SignalCommandAsync(box, "TERM", CancellationToken.None);

        signalled.Should().Be(1);
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(box.ExitFile));
        (await File.ReadAllLinesAsync(box.ExitFile, TestContext.Current.CancellationToken))[0].Should().Be("7");
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None)).ContainmentRemoved.Should().BeTrue();
    }

    [Fact]
    public async Task Pausing_freezes_the_whole_box_and_metrics_come_from_the_cgroup()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox();
        var counter = Path.Combine(_sandbox.TempDirectory, "counter");
        box = await _sandbox.StartWithMonitorAsync(platform, box, "sleep 1000 & sleep 1000 & " + Counting.DaemonScript(counter) + "; wait");
        var before = await Counting.ReadAsync(counter);
        (await Counting.MovesPastAsync(counter, before)).Should().BeTrue("the counter runs before the pause");

        await platform.SetFrozenAsync(box, true, CancellationToken.None);
        var events = File.ReadAllText(Path.Combine(_sandbox.Layout.BoxDirectory(box.Id), "cgroup.events"));
        var frozenAt = await Counting.ReadAsync(counter);
        await Counting.LetRoundsPassAsync();
        var stillAt = await Counting.ReadAsync(counter);
        await platform.SetFrozenAsync(box, false, CancellationToken.None);

        events.Should().Contain("frozen 1");
        stillAt.Should().Be(frozenAt, "the daemonized counter, deep in the box's tree, is frozen too");
        (await Counting.MovesPastAsync(counter, stillAt)).Should().BeTrue("thawing lets it count again");
        var metrics = await platform.GetMetricsAsync(box, CancellationToken.None);
        metrics.ProcessCount.Should().BeGreaterThanOrEqualTo(5);
        metrics.CpuTime.Should().NotBeNull();
        (await platform.ListContainedBoxesAsync(CancellationToken.None)).Should().Contain(box.Id);
        await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);
        (await platform.ListContainedBoxesAsync(CancellationToken.None)).Should().NotContain(box.Id);
    }

    [Fact]
    public async Task Creates_racing_the_removal_of_their_emptied_parent_never_fail()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var cgroups = new BoxCgroups(_sandbox.Layout, CgroupFileSystem.Instance);

        // Each removal of a last box takes the parents (v2 and v1) with it while the other loops create in them.
        async Task ChurnAsync()
        {
            for (var i = 0; i < 100; i++)
            {
                var id = BoxId.New();
                cgroups.Create(id, new BoxLimits { PidsMax = 10 }, BoxIsolation.None);
                (await cgroups.RemoveAsync(cgroups.Of(id), CancellationToken.None)).Should().BeNull();
            }
        }

        var token = TestContext.Current.CancellationToken;
        await Task.WhenAll(Task.Run(ChurnAsync, token), Task.Run(ChurnAsync, token), Task.Run(ChurnAsync, token));

        Directory.Exists(_sandbox.Layout.BoxRoot).Should().BeFalse();
    }

    public void Dispose() => _sandbox.Dispose();
}
