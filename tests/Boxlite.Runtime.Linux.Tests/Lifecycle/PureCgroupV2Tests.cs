using System.Globalization;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// Limits and metrics through the cgroup v2 interface files themselves (<c>memory.max</c>, <c>memory.events</c>,
/// <c>pids.max</c>, <c>cpu.max</c>, <c>cpu.stat</c>, <c>memory.current</c>, <c>memory.peak</c>), on a pure cgroup v2
/// host, as root or as a user with a delegated subtree.
/// </summary>
public sealed class PureCgroupV2Tests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_box_over_its_memory_max_is_OOM_killed_and_records_137_with_an_out_of_memory_reason()
    {
        await using var home = PureV2Home();
        var box = await home.Runtime.RunAsync(
            home.Sh("exec perl -e '$x = \"a\" x (256 * 1024 * 1024); print length $x'") with { Limits = new BoxLimits { MemoryBytes = 32L << 20 } }, Token);

        var code = await box.WaitAsync(Token);

        code.Should().Be(137, "the kernel SIGKILLs the allocator at memory.max");
        var info = await box.RefreshAsync(Token);
        info.State.Should().Be(BoxState.Exited);
        info.StatusReason.Should().StartWith("out of memory", "memory.events counted an oom_kill in the box's cgroups");
    }

    [Fact]
    public async Task A_fork_bomb_stops_at_pids_max()
    {
        await using var home = PureV2Home();
        const string bomb = "exec perl -e 'while (1) { my $p = fork; if (!defined $p) { select(undef, undef, undef, 0.01); next } if (!$p) { sleep 1000; exit } }'";
        var box = await home.Runtime.RunAsync(home.Sh(bomb) with { Limits = new BoxLimits { PidsMax = 40 } }, Token);

        var refused = await LinuxHome.EventuallyAsync(() => MaxOf(home, box.Id, "pids.events", "max") > 0, Generous);

        refused.Should().BeTrue("pids.events counts the forks pids.max refused");
        home.CountMarked().Should().BeInRange(2, 40);
        CgroupFiles(home, box.Id, "pids.max").Should().Contain("40");
        await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);
        home.CountMarked().Should().Be(0);
    }

    [Fact]
    public async Task A_cpu_max_quota_throttles_a_busy_box()
    {
        await using var home = PureV2Home();
        var box = await home.Runtime.RunAsync(home.Sh("while :; do :; done") with { Limits = new BoxLimits { Cpus = 0.1 } }, Token);

        var throttled = await LinuxHome.EventuallyAsync(
            () => MaxOf(home, box.Id, "cpu.stat", "nr_throttled") > 0 && MaxOf(home, box.Id, "cpu.stat", "throttled_usec") > 0, Generous);

        throttled.Should().BeTrue("cpu.stat shows the quota throttling the loop");
        CgroupFiles(home, box.Id, "cpu.max").Should().Contain("10000 100000");
        await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);
    }

    [Fact]
    public async Task Metrics_come_from_memory_current_memory_peak_and_cpu_stat()
    {
        await using var home = PureV2Home();
        var box = await home.Runtime.RunAsync(home.Sh("exec perl -e '$x = \"a\" x (64 << 20); $| = 1; print \"ready\\n\"; sleep 1000'"), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var metrics = await box.GetMetricsAsync(Token);

        var dir = home.V2BoxDirectory(box.Id);
        var peak = long.Parse(File.ReadAllText(Path.Combine(dir, "memory.peak")), CultureInfo.InvariantCulture);
        var cpu = TimeSpan.FromMicroseconds(MaxOf(home, box.Id, "cpu.stat", "usage_usec"));
        metrics.MemoryCurrentBytes.Should().BeGreaterThanOrEqualTo(64L << 20, "the box holds a 64 MiB string");
        metrics.MemoryPeakBytes.Should().BeInRange(metrics.MemoryCurrentBytes!.Value, peak);
        metrics.CpuTime.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(cpu);
        await home.Runtime.RemoveAsync(box.Id.Value, force: true, Token);
    }

    /// <summary>A home on a pure cgroup v2 host whose cgroups this user can make; skips the test anywhere else.</summary>
    private static LinuxHome PureV2Home()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        var layout = LinuxHome.DefaultLayout!;
        var missing = CgroupLayout.LimitControllers.Where(c => layout.Support(c).Backend != LimitBackend.V2).ToList();
        Assert.SkipWhen(layout.IsHybrid, $"needs a pure cgroup v2 host; this one is hybrid (v2 at {layout.V2Mount}, v1 {string.Join(", ", layout.V1Mounts.Keys)})");
        Assert.SkipWhen(missing.Count > 0, $"needs the v2 {string.Join(", ", missing)} controller(s) for box cgroups: {string.Join("; ", missing.Select(c => layout.Support(c).Detail))}");
        return new LinuxHome();
    }

    /// <summary>The contents of <paramref name="file"/> in the box's cgroup and every cgroup below it.</summary>
    private static List<string> CgroupFiles(LinuxHome home, BoxId id, string file)
    {
        var dir = home.V2BoxDirectory(id);
        return Directory.Exists(dir)
            ? [.. Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Prepend(dir)
                .Select(d => Path.Combine(d, file)).Where(File.Exists).Select(f => File.ReadAllText(f).Trim())]
            : [];
    }

    /// <summary>The largest value of <paramref name="key"/> in <paramref name="file"/> over the box's cgroups.</summary>
    private static long MaxOf(LinuxHome home, BoxId id, string file, string key) =>
        CgroupFiles(home, id, file).Select(text => CgroupEventWaiter.ReadKey(text, key))
            .Select(v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).DefaultIfEmpty(0).Max();
}
