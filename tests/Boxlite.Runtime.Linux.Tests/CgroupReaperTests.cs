using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class CgroupReaperTests
{
    private static readonly BoxId Id = BoxId.Parse("abcdefghij012345");
    private const string Box = "/sys/fs/cgroup/boxlite/abcdefghij012345";

    [Fact]
    public async Task A_box_cgroup_that_reports_populated_0_is_only_removed_nothing_is_listed_or_killed()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2);
        fs.AddCgroup("/sys/fs/cgroup", "cpu memory pids");
        var cgroups = new BoxCgroups(CgroupDiscovery.Discover(fs, "boxlite", isRoot: true), fs);
        cgroups.Create(Id, new BoxLimits(), BoxIsolation.None);
        fs.Files[Path.Combine(Box, BoxCgroups.CommandCgroup, "cgroup.procs")] = "4242\n"; // a listing the kernel's populated 0 overrides
        var box = new BoxContext(new BoxInfo { Id = Id, State = BoxState.Exited, Options = new BoxOptions { Command = "true" }, CreatedAt = DateTimeOffset.UnixEpoch }, "/nonexistent");

        var report = await new CgroupKillReaper(cgroups, TimeProvider.System).ReapAsync(box, TimeSpan.FromSeconds(5), CancellationToken.None);

        report.ProcessesKilled.Should().Be(0);
        report.ContainmentRemoved.Should().BeTrue();
        fs.Writes.Should().NotContain(w => w.Path.EndsWith("cgroup.kill", StringComparison.Ordinal));
        fs.Directories.Should().NotContain(Box);
    }
}
