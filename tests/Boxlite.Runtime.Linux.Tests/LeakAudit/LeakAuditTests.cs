using System.Globalization;
using Boxlite.Runtime.Linux.Tests.Lifecycle;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.LeakAudit;

/// <summary>
/// The leak audit: every adversarial tree shape, torn down every way a box can end, five times each
/// (<c>BOXLITE_LEAK_AUDIT_REPETITIONS</c> sets another count, for slow hosts). After each, the box's processes (found
/// by a marker in their environment, independently of any cgroup), its cgroup directories (v2 and v1) and its record
/// are all gone. The endings that kill the host run their five boxes at once
/// under one host, killed once: five monitors (or one recovery) must reap five trees.
/// </summary>
[Trait("Category", "LeakAudit")]
public sealed class LeakAuditTests
{
    private static readonly int Repetitions =
        int.TryParse(Environment.GetEnvironmentVariable("BOXLITE_LEAK_AUDIT_REPETITIONS"), out var n) && n > 0 ? n : 5;

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
        await using var home = new LinuxHome();
        if (ending is Ending.AttachedHostKilled or Ending.DetachedRecoveredByNewProcess)
        {
            var because = $"{shape}, {ending}";
            foreach (var id in await RunThroughOneHostAndKillItAsync(home, script, expected, pidsMax, ending == Ending.DetachedRecoveredByNewProcess, because))
            {
                await ShouldBeGoneAsync(home, id, because);
            }

            return;
        }

        for (var rep = 1; rep <= Repetitions; rep++)
        {
            var because = $"{shape}, {ending}, repetition {rep}";
            await ShouldBeGoneAsync(home, await RunInProcessAndEndAsync(home, script, expected, pidsMax, ending, because), because);
        }
    }

    private static async Task ShouldBeGoneAsync(LinuxHome home, BoxId id, string because)
    {
        home.Marked().Should().BeEmpty(because);
        BoxCgroupDirectories(home, id).Should().BeEmpty(because);
        (await home.Runtime.Store.GetAsync(id, Token)).Should().BeNull(because);
        Directory.Exists(home.Runtime.DirectoryOf(id)).Should().BeFalse(because);
    }

    private static async Task<BoxId> RunInProcessAndEndAsync(LinuxHome home, string script, int expected, int? pidsMax, Ending ending, string because)
    {
        var options = home.ShTree(script) with
        {
            Limits = new BoxLimits { PidsMax = pidsMax },
        };
        var box = await home.Runtime.RunAsync(options, Token);
        await WaitForTreeAsync(home, expected, because);

        if (ending == Ending.Stop)
        {
            await box.StopAsync(TimeSpan.FromMilliseconds(200), Token);

            home.Marked().Should().BeEmpty(because);
            BoxCgroupDirectories(home, box.Id).Should().BeEmpty(because);
            (await home.Runtime.Store.GetAsync(box.Id, Token))!.State.Should().Be(BoxState.Exited, because);
            await home.Runtime.RemoveAsync(box.Id.Value, cancellationToken: Token);
        }
        else
        {
            var report = await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);

            report!.ProcessesKilled.Should().BeGreaterThan(0, because);
        }

        return box.Id;
    }

    private static async Task<List<BoxId>> RunThroughOneHostAndKillItAsync(LinuxHome home, string script, int expected, int? pidsMax, bool detached, string because)
    {
        var environment = new Dictionary<string, string> { ["BOX_MARKER"] = home.Marker };
        if (pidsMax is { } pids)
        {
            environment["BOX_PIDS_MAX"] = pids.ToString(CultureInfo.InvariantCulture);
        }

        List<BoxId> ids;
        using (var host = TestHostProcess.Start(
            environment,
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
                report!.ProcessesKilled.Should().BeGreaterThan(0, because);
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
}
