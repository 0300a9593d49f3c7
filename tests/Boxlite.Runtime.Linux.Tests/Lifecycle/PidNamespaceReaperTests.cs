using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// The pidns-init reaper end to end, with no cgroup: boxes with a private PID namespace, reaped whole by killing the
/// namespace's init. It is forced here; it is also what a user without a writable cgroup gets by default.
/// </summary>
public sealed class PidNamespaceReaperTests
{
    private const string Reaper = PidNamespaceInitReaper.MethodName;

    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<BoxIsolation, string> Trees()
    {
        var data = new TheoryData<BoxIsolation, string>();
        foreach (var (shape, (_, _, pidsMax)) in AdversarialTrees.LeakAudit)
        {
            // A limit needs a cgroup; a box under bwrap has no capability left to make a nested PID namespace.
            if (pidsMax is null)
            {
                data.Add(BoxIsolation.PidNamespace, shape);
                if (!shape.Contains("PID namespace", StringComparison.Ordinal))
                {
                    data.Add(BoxIsolation.Bubblewrap, shape);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task Stopping_a_namespaced_box_reaps_its_whole_tree_without_a_cgroup(BoxIsolation isolation, string shape)
    {
        await using var home = Home();
        var (script, expected, _) = AdversarialTrees.LeakAudit[shape];
        var box = await home.Runtime.RunAsync(home.Sh(script, isolation), Token);
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= expected, Generous)).Should()
            .BeTrue($"the tree should reach {expected} processes, has {home.CountMarked()}");

        var report = await box.StopAsync(TimeSpan.FromMilliseconds(200), Token);

        report.Method.Should().Be(Reaper);
        home.Marked().Should().BeEmpty();
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Exited);
        home.LeftoverCgroups().Should().BeEmpty();
    }

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task A_detached_box_outlives_its_host_and_a_second_process_recovers_and_removes_it(BoxIsolation isolation)
    {
        await using var home = Home();
        var id = await StartInHostAndKillItAsync(home, "detached", isolation);

        // "ready" can come while a sleep it forked is still exec'ing, when its environment cannot be read.
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= 3, Generous)).Should().BeTrue("the box outlives its host");
        await using var second = home.Open();
        (await second.RecoverAsync(Token)).StillRunning.Should().Be(1);
        var report = await second.RemoveAsync(id.Value, force: true, Token);

        report!.Method.Should().Be(Reaper);
        home.Marked().Should().BeEmpty();
        (await second.ListAsync(Token)).Should().BeEmpty();
    }

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task An_attached_box_of_a_SIGKILLed_host_is_reaped_by_recovery(BoxIsolation isolation)
    {
        await using var home = Home();
        var id = await StartInHostAndKillItAsync(home, "attached", isolation);

        var recovery = await home.Runtime.RecoverAsync(Token);

        recovery.StillRunning.Should().Be(0);
        home.Marked().Should().BeEmpty();
        (await home.Runtime.Store.GetAsync(id, Token))!.State.Should().Be(BoxState.Exited);
    }

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task Exec_runs_inside_the_box_namespace_and_what_it_leaves_is_reaped_with_the_box(BoxIsolation isolation)
    {
        await using var home = Home();
        var box = await home.Runtime.RunAsync(home.Sh("echo ready; sleep 1000", isolation), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var result = await box.ExecAsync("/bin/sh", ["-c", "sleep 1000 >/dev/null 2>&1 & ls /proc | grep -c '^[0-9]'"], Token);

        result.ExitCode.Should().Be(0, result.StandardError);
        int.Parse(result.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(12, "a fresh namespace holds only a few processes");
        await box.StopAsync(TimeSpan.FromSeconds(5), Token);
        home.Marked().Should().BeEmpty();
    }

    [Fact]
    public async Task Limits_and_a_box_without_a_namespace_are_refused_before_anything_is_created()
    {
        await using var home = Home();

        var limited = () => home.Runtime.CreateAsync(home.Sh("true", BoxIsolation.PidNamespace) with { Limits = new BoxLimits { PidsMax = 10 } }, Token);
        var plain = () => home.Runtime.CreateAsync(home.Sh("true"), Token);

        (await limited.Should().ThrowAsync<PlatformCapabilityException>()).Which.Reason.Should().Contain("limits need a cgroup");
        (await plain.Should().ThrowAsync<PlatformCapabilityException>()).Which.Reason.Should().Contain("isolation None");
        (await home.Runtime.ListAsync(Token)).Should().BeEmpty();
    }

    private static LinuxHome Home()
    {
        Assert.SkipUnless(LinuxHome.CanRunNamespacedBoxes, LinuxHome.NamespacedSkipReason);
        return new LinuxHome(o => o.Reaper = Reaper);
    }

    /// <summary>Starts a box in the test host with the pidns-init reaper (through <c>BOXLITE_REAPER</c>), then SIGKILLs the host.</summary>
    private static async Task<BoxId> StartInHostAndKillItAsync(LinuxHome home, string mode, BoxIsolation isolation)
    {
        using var host = TestHostProcess.Start(
            new Dictionary<string, string> { ["BOX_MARKER"] = home.Marker, ["BOXLITE_REAPER"] = Reaper },
            "run", home.Home, home.CgroupParent, mode, isolation.ToString(), "1", "/bin/sh", "-c", "sleep 1000 & sleep 1000 & echo ready; wait");
        var id = BoxId.Parse(await host.WaitForLineAsync("id ", Generous));
        await BoxWaits.ForLogLineAsync(await home.Runtime.GetAsync(id.Value, Token), "ready");
        host.KillHard();
        return id;
    }
}
