using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>The guarantees proven on the real Linux platform, each against what the kernel shows.</summary>
public sealed class GuaranteeTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task The_command_is_in_its_box_cgroup_from_its_first_instruction(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        // cat's first act is to read its own cgroup.
        var box = await home.Runtime.RunAsync(home.Sh("") with { Command = "/bin/cat", Args = ["/proc/self/cgroup"], Isolation = isolation }, Token);

        (await box.WaitAsync(Token)).Should().Be(0);
        var lines = await box.ReadLogsAsync(cancellationToken: Token).Select(l => l.Text).ToListAsync(Token);
        var v2 = lines.Should().ContainSingle(l => l.StartsWith("0::", StringComparison.Ordinal)).Subject[3..];
        var boxCgroup = $"/{home.CgroupParent}/{box.Id}";
        v2.Should().Match(p => p == boxCgroup || p.StartsWith(boxCgroup + "/", StringComparison.Ordinal), $"the command runs in {boxCgroup} or below it");
    }

    [Fact]
    public async Task A_monitor_outside_its_box_cgroup_never_runs_the_command_and_the_box_fails_leaving_nothing()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        await using var runtime = home.Open(new UncontainedMonitorPlatform(home.Platform()));
        var ran = Path.Combine(home.Home, "command-ran");
        var box = await runtime.CreateAsync(home.Sh($"touch '{ran}'; sleep 1000"), Token);

        var act = () => box.StartAsync(Token);

        (await act.Should().ThrowAsync<BoxStartException>()).Which.Message.Should().Contain("not in its box cgroup");
        (await runtime.Store.GetAsync(box.Id, Token))!.State.Should().Be(BoxState.Failed);
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() == 0, Generous)).Should().BeTrue("the monitor ends without starting anything");
        File.Exists(ran).Should().BeFalse("the command never ran");
        home.LeftoverCgroups().Should().BeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_process_the_kill_cannot_finish_is_named_the_record_kept_and_the_reap_succeeds_once_it_is_released(bool removeWithForce)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        Assert.SkipWhen(V1Freezer.Mount is null, V1Freezer.SkipReason);
        await using var home = new LinuxHome(o => o.ReapTimeout = TimeSpan.FromSeconds(3));
        var box = await home.Runtime.RunAsync(home.Sh("sleep 1000 & echo $!; wait"), Token);
        var stuck = await FirstNumberInLogAsync(box);
        (await LinuxHome.EventuallyAsync(() => ProcFs.TryRead($"/proc/{stuck}/comm")?.Trim() == "sleep", Generous)).Should().BeTrue("the child has become sleep");
        using var freezer = V1Freezer.Create(home.CgroupParent);
        await freezer.HoldAsync(stuck);

        var act = removeWithForce
            ? () => home.Runtime.RemoveAsync(box.Id.Value, force: true, Token)
            : (Func<Task>)(() => box.StopAsync(TimeSpan.FromMilliseconds(100), Token));

        var failure = (await act.Should().ThrowAsync<ReapTimeoutException>()).Which;
        // On a loaded machine the rest of the box may still be dying at the deadline; the frozen task must be named.
        failure.Survivors.Should().Contain(new BoxProcessInfo(stuck, "sleep", 'D'));
        failure.Message.Should().Contain($"{stuck} (sleep, state D)");
        var kept = await home.Runtime.Store.GetAsync(box.Id, Token);
        kept.Should().NotBeNull("a box whose reap is not confirmed keeps its record");
        kept!.State.Should().Be(BoxState.Unknown);
        home.BoxCgroupTree(box.Id).Should().NotBeEmpty("the cgroup still holds the survivor");

        freezer.Release();
        if (removeWithForce)
        {
            await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);
            (await home.Runtime.Store.GetAsync(box.Id, Token)).Should().BeNull();
        }
        else
        {
            await box.StopAsync(TimeSpan.FromMilliseconds(100), Token);
            (await home.Runtime.Store.GetAsync(box.Id, Token))!.State.Should().Be(BoxState.Exited);
        }

        home.CountMarked().Should().Be(0);
        home.BoxCgroupTree(box.Id).Should().BeEmpty();
    }

    public static TheoryData<BoxLimits> EachLimit => new()
    {
        new BoxLimits { MemoryBytes = 64 << 20 },
        new BoxLimits { Cpus = 0.5 },
        new BoxLimits { PidsMax = 10 },
    };

    [Theory]
    [MemberData(nameof(EachLimit))]
    public async Task A_runtime_on_the_single_pid_reaper_refuses_limits_and_creates_nothing(BoxLimits limits)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome(o => o.Reaper = SinglePidReaper.MethodName);
        home.Runtime.Guarantee.Should().Be(ReapGuarantee.SingleProcess);

        var act = () => home.Runtime.CreateAsync(home.Sh("true") with { Limits = limits }, Token);

        (await act.Should().ThrowAsync<PlatformCapabilityException>()).Which.Reason.Should().Contain(SinglePidReaper.MethodName);
        (await home.Runtime.Store.ListAsync(Token)).Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(home.Runtime.BoxesDirectory).Should().BeEmpty();
        home.LeftoverCgroups().Should().BeEmpty();
    }

    [Fact]
    public async Task A_cpu_limit_is_written_to_the_box_cgroup_and_throttles_a_busy_loop()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        Assert.SkipWhen(home.Layout.Support("cpu").Backend == LimitBackend.None, home.Layout.Support("cpu").Detail);

        var box = await home.Runtime.RunAsync(home.Sh("while :; do :; done") with { Limits = new BoxLimits { Cpus = 0.1 } }, Token);

        // v1: cpu.cfs_quota_us over cpu.cfs_period_us; v2: "quota period" in cpu.max. Either sits in the box cgroup or below it.
        var limited = home.BoxCgroupTree(box.Id).Where(d =>
            File.Exists(Path.Combine(d, "cpu.cfs_quota_us"))
                ? File.ReadAllText(Path.Combine(d, "cpu.cfs_quota_us")).Trim() == "10000" && File.ReadAllText(Path.Combine(d, "cpu.cfs_period_us")).Trim() == "100000"
                : File.Exists(Path.Combine(d, "cpu.max")) && File.ReadAllText(Path.Combine(d, "cpu.max")).Trim() == "10000 100000").ToList();
        var cgroup = limited.Should().ContainSingle("one cgroup of the box holds the 10% quota").Subject;
        (await LinuxHome.EventuallyAsync(() => Throttled(cgroup) > 0, Generous)).Should().BeTrue("the busy loop is throttled (cpu.stat nr_throttled)");
    }

    [Fact]
    public async Task The_log_cap_holds_on_both_streams_and_the_box_is_not_blocked()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        const int cap = 64 * 1024;
        await using var home = new LinuxHome(o => o.MaxLogBytes = cap);

        // head exits 141 (SIGPIPE) if its reader went away: 3 means both streams were written to the end.
        var box = await home.Runtime.RunAsync(home.Sh("yes out | head -c 4000000 && yes err | head -c 4000000 >&2 && exit 3"), Token);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(Generous);
        var exit = () => box.WaitAsync(deadline.Token);
        (await exit.Should().NotThrowAsync("a box writing past the cap is never blocked")).Which.Should().Be(3);
        var lines = await box.ReadLogsAsync(cancellationToken: Token).ToListAsync(Token);
        foreach (var source in (BoxLogSource[])[BoxLogSource.StandardOutput, BoxLogSource.StandardError])
        {
            lines.Where(l => l.Source == source).Sum(l => l.Text.Length + 1).Should().BeInRange(1, cap, $"{source} is capped");
        }
    }

    [Fact]
    public async Task A_box_cgroup_without_a_record_is_reaped_with_its_processes_at_recovery()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var ghost = home.Layout.BoxDirectory(BoxId.New());
        Directory.CreateDirectory(ghost);
        var psi = new ProcessStartInfo("/usr/bin/setsid", ["/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" || exit 1; sleep 1000 & sleep 1000 & wait", ghost]);
        psi.Environment["BOX_MARKER"] = home.Marker;
        using (Process.Start(psi))
        {
            (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= 3, Generous)).Should().BeTrue();
        }

        var report = await home.Runtime.RecoverAsync(Token);

        report.ReapedUnrecorded.Should().Be(1);
        home.CountMarked().Should().Be(0);
        home.LeftoverCgroups().Should().BeEmpty();
    }

    private static long Throttled(string cgroup) =>
        long.TryParse(CgroupEventWaiter.ReadKey(File.ReadAllText(Path.Combine(cgroup, "cpu.stat")), "nr_throttled"), CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static async Task<int> FirstNumberInLogAsync(IBox box)
    {
        var until = DateTime.UtcNow + Generous;
        while (DateTime.UtcNow < until)
        {
            await foreach (var line in box.ReadLogsAsync(cancellationToken: Token))
            {
                if (int.TryParse(line.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    return pid;
                }
            }

            await Task.Delay(10, Token);
        }

        throw new TimeoutException($"box {box.Id} never printed a pid");
    }
}
