using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// A box is reaped where it was contained, whatever the runtime reaping it derives (G2), and a home's parent cgroup
/// goes with its last box.
/// </summary>
public sealed class ContainmentPathTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("trailing slash")]
    [InlineData("dot segment")]
    [InlineData("symlink")]
    public async Task A_box_run_through_one_spelling_of_its_home_is_reaped_through_another(string spelling)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var other = spelling switch
        {
            "trailing slash" => home.Home + "/",
            "dot segment" => home.Home + "/./",
            _ => Directory.CreateSymbolicLink(home.Home + "-link", home.Home).FullName,
        };
        try
        {
            // Each runtime derives its default cgroup parent from the home as it is spelled.
            await using var first = Open(home.Home);
            var box = await first.RunAsync(home.Sh("sleep 1000 & sleep 1000 & wait"), Token);
            (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= 3, Generous)).Should().BeTrue();
            await using var second = Open(other);

            var report = await second.RemoveAsync(box.Id.Value, force: true, Token);

            report!.ProcessesKilled.Should().BeGreaterThanOrEqualTo(3);
            home.CountMarked().Should().Be(0);
            CgroupsOf(DefaultParent(home.Home)).Should().BeEmpty();
        }
        finally
        {
            File.Delete(home.Home + "-link");
            RemoveEmptyParents(DefaultParent(home.Home), DefaultParent(other));
        }
    }

    [Fact]
    public async Task A_reap_never_reports_success_while_the_recorded_monitor_lives()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("sleep 1000 & sleep 1000 & wait"), Token);
        (await LinuxHome.EventuallyAsync(() => home.CountMarked() >= 3, Generous)).Should().BeTrue();

        // A record from before containment paths were kept, reaped by a runtime whose cgroup parent differs.
        var record = await home.Runtime.Store.GetAsync(box.Id, Token);
        await home.Runtime.Store.TryUpdateAsync(record! with { Containment = null }, Token);
        var elsewhere = new BoxliteOptions { HomeDirectory = home.Home, RecoverOnStart = false };
        await using (var second = LinuxHome.Open(elsewhere, home.CgroupParent + "-elsewhere"))
        {
            var act = () => second.RemoveAsync(box.Id.Value, force: true, Token);

            (await act.Should().ThrowAsync<ReapTimeoutException>()).WithMessage("*monitor is alive*");
        }

        home.CountMarked().Should().BeGreaterThanOrEqualTo(3);
        (await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token))!.ProcessesKilled.Should().BeGreaterThanOrEqualTo(3);
        home.CountMarked().Should().Be(0);
    }

    [Fact]
    public async Task The_parent_cgroup_of_a_home_goes_with_its_last_box_in_every_hierarchy()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var limits = new BoxLimits { PidsMax = 50, MemoryBytes = 64 << 20 };
        var a = await home.Runtime.RunAsync(home.Sh("sleep 1000") with { Limits = limits }, Token);
        var b = await home.Runtime.RunAsync(home.Sh("sleep 1000") with { Limits = limits }, Token);

        await home.Runtime.RemoveAsync(a.Id.Value, force: true, Token);
        var whileOneLives = home.ParentDirectories().Count();
        await home.Runtime.RemoveAsync(b.Id.Value, force: true, Token);

        whileOneLives.Should().BeGreaterThanOrEqualTo(home.Layout.V1Mounts.Count > 0 ? 2 : 1, "the v2 parent (and its v1 counterparts on a hybrid host) stay while a box uses them");
        home.ParentDirectories().Should().BeEmpty();
    }

    [Fact]
    public async Task Pruning_removes_an_empty_parent_cgroup_of_the_home_and_keeps_one_in_use()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var platform = (LinuxBoxPlatform)home.Runtime.Platform;
        var box = await home.Runtime.RunAsync(home.Sh("sleep 1000") with { Limits = new BoxLimits { PidsMax = 50 } }, Token);
        var inUse = platform.RemoveEmptyParents();
        await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);

        // Left empty by a runtime that did not remove it (an older version, or one killed half-way).
        var left = platform.Layout.V1Mounts.Values.Distinct().Select(m => Path.Combine(m, home.CgroupParent)).Prepend(platform.Layout.BoxRoot!).ToList();
        left.ForEach(d => Directory.CreateDirectory(d));

        var pruned = (await home.Runtime.PruneAsync(cancellationToken: Token)).EmptyParentsRemoved;

        inUse.Should().Be(0);
        pruned.Should().Be(left.Count);
        home.ParentDirectories().Should().BeEmpty();
    }

    private static BoxRuntime Open(string home) =>
        new BoxliteRuntimeBuilder(new BoxliteOptions { HomeDirectory = home, RecoverOnStart = false }).AddLinux().Build();

    private static string DefaultParent(string home) => new LinuxOptions().CgroupParentFor(new BoxliteOptions { HomeDirectory = home }.ResolvedHomeDirectory);

    private static List<string> CgroupsOf(string parent) =>
        [.. Directory.EnumerateDirectories("/sys/fs/cgroup").Select(h => Path.Combine(h, parent)).Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories)];

    /// <summary>Removes what these parents (this test's own) still hold, killing first what is left in their box cgroups.</summary>
    private static void RemoveEmptyParents(params string[] parents)
    {
        foreach (var parent in parents.SelectMany(p => Directory.EnumerateDirectories("/sys/fs/cgroup").Select(h => Path.Combine(h, p))).Where(Directory.Exists))
        {
            foreach (var box in Directory.EnumerateDirectories(parent).Where(b => File.Exists(Path.Combine(b, "cgroup.kill"))))
            {
                File.WriteAllText(Path.Combine(box, "cgroup.kill"), "1");
            }

            for (var attempt = 0; attempt < 100 && Directory.Exists(parent); attempt++)
            {
                try
                {
                    foreach (var dir in Directory.EnumerateDirectories(parent, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(parent))
                    {
                        Directory.Delete(dir);
                    }
                }
                catch (IOException)
                {
                    Thread.Sleep(20);
                }
            }
        }
    }
}
