using Boxlite.Runtime.Linux.Cgroups;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class BoxCgroupsTests
{
    private static readonly BoxId Id = BoxId.Parse("abcdefghij012345");

    private static (FakeCgroupFileSystem Fs, BoxCgroups Cgroups) PureV2(string controllers = "cpu memory pids")
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2);
        fs.AddCgroup("/sys/fs/cgroup", controllers);
        fs.AddCgroup("/sys/fs/cgroup/system.slice");
        return (fs, new BoxCgroups(CgroupDiscovery.Discover(fs, "boxlite", isRoot: true), fs));
    }

    private static (FakeCgroupFileSystem Fs, BoxCgroups Cgroups) Hybrid()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.Hybrid);
        fs.AddCgroup("/sys/fs/cgroup/unified", "hugetlb");
        fs.AddCgroup("/sys/fs/cgroup/unified/init.scope");
        foreach (var v1 in new[] { "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids" })
        {
            fs.AddCgroup(v1);
        }

        return (fs, new BoxCgroups(CgroupDiscovery.Discover(fs, "boxlite", isRoot: true), fs));
    }

    [Fact]
    public void Limits_on_pure_v2_are_written_to_the_box_cgroup_after_enabling_controllers_above_it()
    {
        var (fs, cgroups) = PureV2();

        var join = cgroups.Create(Id, new BoxLimits { MemoryBytes = 64 << 20, Cpus = 0.5, PidsMax = 100 });

        join.Should().Equal("/sys/fs/cgroup/boxlite/abcdefghij012345/cgroup.procs");
        fs.Files["/sys/fs/cgroup/cgroup.subtree_control"].Should().Be("+memory +cpu +pids");
        fs.Files["/sys/fs/cgroup/boxlite/cgroup.subtree_control"].Should().Be("+memory +cpu +pids");
        fs.Files["/sys/fs/cgroup/boxlite/abcdefghij012345/memory.max"].Should().Be("67108864");
        fs.Files["/sys/fs/cgroup/boxlite/abcdefghij012345/cpu.max"].Should().Be("50000 100000");
        fs.Files["/sys/fs/cgroup/boxlite/abcdefghij012345/pids.max"].Should().Be("100");
        fs.Directories.Should().Contain("/sys/fs/cgroup/boxlite/abcdefghij012345/cmd");
    }

    [Fact]
    public void Limits_on_a_hybrid_host_go_to_the_v1_controllers_and_the_monitor_joins_them()
    {
        var (fs, cgroups) = Hybrid();

        var join = cgroups.Create(Id, new BoxLimits { MemoryBytes = 1 << 20, Cpus = 2, PidsMax = 7 });

        join.Should().Equal(
            "/sys/fs/cgroup/unified/boxlite/abcdefghij012345/cgroup.procs",
            "/sys/fs/cgroup/memory/boxlite/abcdefghij012345/cgroup.procs",
            "/sys/fs/cgroup/cpu,cpuacct/boxlite/abcdefghij012345/cgroup.procs",
            "/sys/fs/cgroup/pids/boxlite/abcdefghij012345/cgroup.procs");
        fs.Files["/sys/fs/cgroup/memory/boxlite/abcdefghij012345/memory.limit_in_bytes"].Should().Be("1048576");
        fs.Files["/sys/fs/cgroup/cpu,cpuacct/boxlite/abcdefghij012345/cpu.cfs_quota_us"].Should().Be("200000");
        fs.Files["/sys/fs/cgroup/pids/boxlite/abcdefghij012345/pids.max"].Should().Be("7");
    }

    [Fact]
    public void A_limit_the_host_cannot_enforce_is_refused_before_anything_is_created()
    {
        var (fs, cgroups) = PureV2(controllers: "memory");
        var before = fs.Directories.Count;

        var act = () => cgroups.Create(Id, new BoxLimits { PidsMax = 10 });

        act.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Contain("pids");
        fs.Directories.Should().HaveCount(before);
    }

    [Fact]
    public void A_failed_limit_write_removes_everything_already_created()
    {
        var (fs, cgroups) = Hybrid();
        fs.FailingWrites.Add("/sys/fs/cgroup/pids/boxlite/abcdefghij012345/pids.max");

        var act = () => cgroups.Create(Id, new BoxLimits { PidsMax = 10 });

        act.Should().Throw<BoxStartException>().WithMessage("*pids.max*");
        fs.Directories.Where(d => d.Contains(Id.Value, StringComparison.Ordinal)).Should().BeEmpty();
    }

    [Fact]
    public void A_read_only_cgroup_filesystem_fails_the_setup_with_the_reason()
    {
        var (fs, cgroups) = PureV2();
        fs.AllWritable = false;

        var act = () => cgroups.Create(Id, BoxLimits.None);

        act.Should().Throw<BoxStartException>().WithMessage("*mkdir*");
    }

    [Fact]
    public async Task Removal_takes_the_command_cgroup_first_and_the_v1_counterparts_too()
    {
        var (fs, cgroups) = Hybrid();
        cgroups.Create(Id, new BoxLimits { PidsMax = 3 });

        var failure = await cgroups.RemoveAsync(Id, CancellationToken.None);

        failure.Should().BeNull();
        fs.Directories.Where(d => d.Contains(Id.Value, StringComparison.Ordinal)).Should().BeEmpty();
    }
}
