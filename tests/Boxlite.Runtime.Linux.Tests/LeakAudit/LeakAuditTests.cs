using System.Globalization;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Tests.Lifecycle;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.LeakAudit;

/// <summary>
/// The leak audit: every adversarial tree shape, torn down every way a box can end, five times each. After each,
/// the box's processes (found by a marker in their environment, independently of any cgroup), its cgroup
/// directories (v2 and v1) and its record are all gone. The endings that kill the host run their five boxes at once
/// under one host, killed once: five monitors (or one recovery) must reap five trees.
/// </summary>
[Trait("Category", "LeakAudit")]
public sealed class LeakAuditTests
{
    private const int Repetitions = 5;

    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    public enum Ending
    {
        /// <summary><c>StopAsync</c> with a short grace, then remove.</summary>
        Stop,

        /// <summary><c>RemoveAsync(force)</c> of the running box.</summary>
        RemoveForce,

        /// <summary>An attached box's host process is SIGKILLed; recovery records the end, then remove.</summary>
        AttachedHostKilled,

        /// <summary>A detached box's host process is SIGKILLed; a new runtime recovers it (still running) and removes it with force.</summary>
        DetachedRecoveredByNewProcess,
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public static TheoryData<string, Ending> Cases()
    {
        var data = new TheoryData<string, Ending>();
        foreach (var shape in AdversarialTrees.LeakAudit.Keys)
        {
            foreach (var ending in Enum.GetValues<Ending>())
            {
                data.Add(shape, ending);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_tree_leaves_no_process_cgroup_or_record_behind(string shape, Ending ending)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        var (script, expected, pidsMax) = AdversarialTrees.LeakAudit[shape];
        var storm = pidsMax is not null;
        await using var home = new LinuxHome();
        if (ending is Ending.AttachedHostKilled or Ending.DetachedRecoveredByNewProcess)
        {
            if (storm)
            {
                // The test host cannot pass box limits, so each storm bounds itself by joining a pids cgroup of this test.
                var pids = StormPidsCgroups(home);
                Assert.SkipWhen(pids is null, "the test host cannot set a pids limit and this host has no v1 pids hierarchy to bound the fork storm with");
                script = $"echo $$ > '{pids}/storm-'$BOX_INDEX/cgroup.procs || exit 125; {script}";
            }

            var because = $"{shape}, {ending}";
            foreach (var id in await RunThroughOneHostAndKillItAsync(home, script, expected, ending == Ending.DetachedRecoveredByNewProcess, because))
            {
                await ShouldBeGoneAsync(home, id, because);
            }

            return;
        }

        for (var rep = 1; rep <= Repetitions; rep++)
        {
            var because = $"{shape}, {ending}, repetition {rep}";
            await ShouldBeGoneAsync(home, await RunInProcessAndEndAsync(home, script, expected, storm, ending, because), because);
        }
    }

    private static async Task ShouldBeGoneAsync(LinuxHome home, BoxId id, string because)
    {
        home.Marked().Should().BeEmpty(because);
        BoxCgroupDirectories(home, id).Should().BeEmpty(because);
        (await home.Runtime.Store.GetAsync(id, Token)).Should().BeNull(because);
        Directory.Exists(home.Runtime.DirectoryOf(id)).Should().BeFalse(because);
    }

    private static async Task<BoxId> RunInProcessAndEndAsync(LinuxHome home, string script, int expected, bool storm, Ending ending, string because)
    {
        var options = home.ShTree(script) with
        {
            Limits = storm ? new BoxLimits { PidsMax = AdversarialTrees.StormPidsMax } : BoxLimits.None,
        };
        var box = await home.Runtime.RunAsync(options, Token);
        await WaitForTreeAsync(home, expected, because);

        if (ending == Ending.Stop)
        {
            var report = await box.StopAsync(TimeSpan.FromMilliseconds(200), Token);

            report.Survivors.Should().BeEmpty(because);
            home.Marked().Should().BeEmpty(because);
            BoxCgroupDirectories(home, box.Id).Should().BeEmpty(because);
            (await home.Runtime.Store.GetAsync(box.Id, Token))!.State.Should().Be(BoxState.Exited, because);
            await home.Runtime.RemoveAsync(box.Id.Value, cancellationToken: Token);
        }
        else
        {
            var report = await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);

            report!.Survivors.Should().BeEmpty(because);
        }

        return box.Id;
    }

    private static async Task<List<BoxId>> RunThroughOneHostAndKillItAsync(LinuxHome home, string script, int expected, bool detached, string because)
    {
        List<BoxId> ids;
        using (var host = TestHostProcess.Start(
            new Dictionary<string, string> { ["BOX_MARKER"] = home.Marker },
            ["run", home.Home, home.CgroupParent, detached ? "detached" : "attached", "None", Repetitions.ToString(CultureInfo.InvariantCulture), .. home.TreeArgv(script)]))
        {
            ids = [.. (await host.WaitForLinesAsync("id ", Repetitions, Generous)).Select(BoxId.Parse)];
            for (var index = 1; index <= Repetitions; index++)
            {
                await WaitForTreeAsync(home, expected, $"{because}, box {index}", index);
            }

            host.KillHard();
        }

        if (detached)
        {
            // The boxes outlive their host; a runtime that never saw them finds them running and removes them. (Some shapes
            // cycle short-lived processes: the full count is seen again, not at every instant.)
            await WaitForTreeAsync(home, expected * Repetitions, because);
            await using var second = home.Open();
            (await second.RecoverAsync(Token)).StillRunning.Should().Be(Repetitions, because);
            foreach (var id in ids)
            {
                var report = await second.RemoveAsync(id.Value, force: true, Token);
                report!.Survivors.Should().BeEmpty(because);
            }

            return ids;
        }

        // Each monitor sees its host pipe close and kills its box itself; recovery records the ends.
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() == 0, Generous)).Should().BeTrue($"{because}: survivors {string.Join(",", home.Marked())}");
        await home.Runtime.RecoverAsync(Token);
        foreach (var id in ids)
        {
            var info = await home.Runtime.Store.GetAsync(id, Token);
            info!.State.Should().Be(BoxState.Exited, because);
            info.KilledBy.Should().Be("KILL", because);
            BoxCgroupDirectories(home, id).Should().BeEmpty(because);
            await home.Runtime.RemoveAsync(id.Value, cancellationToken: Token);
        }

        return ids;
    }

    private static async Task WaitForTreeAsync(LinuxHome home, int expected, string because, int? index = null) =>
        (await LinuxHome.EventuallyAsync(() => home.CountTree(index) >= expected, Generous)).Should()
            .BeTrue($"{because}: the tree should reach {expected} processes, has {home.CountTree(index)}");

    /// <summary>The box's cgroup directories that still exist, in every hierarchy (v2 and v1).</summary>
    private static List<string> BoxCgroupDirectories(LinuxHome home, BoxId id) =>
        [.. home.ParentDirectories().Select(p => Path.Combine(p, id.Value)).Where(Directory.Exists)];

    /// <summary>
    /// v1 pids cgroups <c>storm-1</c> … <c>storm-5</c> under the test's own parent, each limited to the storm's bound (removed
    /// with the home); returns their parent, or null without v1 pids.
    /// </summary>
    private static string? StormPidsCgroups(LinuxHome home)
    {
        var layout = CgroupDiscovery.Discover(CgroupFileSystem.Instance, home.CgroupParent, isRoot: true, CgroupDiscovery.RunningKernel());
        if (!layout.V1Mounts.TryGetValue("pids", out var mount))
        {
            return null;
        }

        var parent = Path.Combine(mount, home.CgroupParent);
        for (var index = 1; index <= Repetitions; index++)
        {
            var dir = Path.Combine(parent, $"storm-{index}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "pids.max"), AdversarialTrees.StormPidsMax.ToString(CultureInfo.InvariantCulture));
        }

        return parent;
    }
}
