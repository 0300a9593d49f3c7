using Boxlite.Runtime.Linux.Cgroups;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class CgroupDiscoveryTests
{
    [Fact]
    public void A_pure_v2_host_as_root_puts_boxes_under_the_parent_at_the_mount()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2);
        fs.AddCgroup("/sys/fs/cgroup", "cpu memory pids");
        fs.AddCgroup("/sys/fs/cgroup/system.slice");

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: true);

        layout.V2Mount.Should().Be("/sys/fs/cgroup");
        layout.IsHybrid.Should().BeFalse();
        layout.BoxRoot.Should().Be("/sys/fs/cgroup/boxlite");
        layout.HasKill.Should().BeTrue();
        layout.Support("memory").Backend.Should().Be(LimitBackend.V2);
    }

    [Fact]
    public void A_hybrid_host_uses_the_unified_mount_and_v1_controllers_for_limits()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.Hybrid);
        fs.AddCgroup("/sys/fs/cgroup/unified", "hugetlb");
        fs.AddCgroup("/sys/fs/cgroup/unified/init.scope");

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: true);

        layout.V2Mount.Should().Be("/sys/fs/cgroup/unified");
        layout.IsHybrid.Should().BeTrue();
        layout.BoxRoot.Should().Be("/sys/fs/cgroup/unified/boxlite");
        layout.Support("memory").Should().Be(new ControllerSupport(LimitBackend.V1, "v1 memory controller at /sys/fs/cgroup/memory"));
        layout.Support("cpu").Backend.Should().Be(LimitBackend.V1);
        var path = layout.CgroupPath(BoxId.Parse("aaaaaaaaaaaaaaaa"));
        path.Should().Be("/boxlite/aaaaaaaaaaaaaaaa");
        layout.V2Directory(path).Should().Be("/sys/fs/cgroup/unified/boxlite/aaaaaaaaaaaaaaaa");
        layout.V1Directory("cpu", path).Should().Be("/sys/fs/cgroup/cpu,cpuacct/boxlite/aaaaaaaaaaaaaaaa");
    }

    [Theory]
    [InlineData(FakeCgroupFileSystem.V1Only, "only cgroup v1")]
    [InlineData(FakeCgroupFileSystem.NoCgroups, "no cgroup filesystem")]
    [InlineData(FakeCgroupFileSystem.ReadOnlyV2, "read-only")]
    public void A_host_without_a_usable_v2_hierarchy_says_why(string mountInfo, string reason)
    {
        var fs = new FakeCgroupFileSystem(mountInfo);

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: true);

        layout.IsUsable.Should().BeFalse();
        layout.BoxRootDetail.Should().Contain(reason);
        layout.Support("pids").Backend.Should().Be(LimitBackend.None);
    }

    [Fact]
    public void A_cgroup_without_a_cgroup_kill_file_means_no_kill_whatever_the_kernel_version()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2);
        fs.AddCgroup("/sys/fs/cgroup", "memory");
        fs.AddCgroup("/sys/fs/cgroup/system.slice", kill: false);

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: true, new Version(6, 1));

        layout.HasKill.Should().BeFalse();
        layout.HasFreeze.Should().BeTrue();
    }

    [Fact]
    public void A_non_root_user_without_delegation_has_no_box_root()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2, "0::/user.slice/user-1000.slice/session-1.scope\n") { AllWritable = false };
        fs.AddCgroup("/sys/fs/cgroup", "memory pids");
        fs.AddCgroup("/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope", procs: "4242\n");

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: false);

        layout.IsUsable.Should().BeFalse();
        layout.BoxRootDetail.Should().Contain("no delegated cgroup");
    }

    [Fact]
    public void A_non_root_user_with_a_delegated_subtree_gets_boxes_beside_its_own_cgroup()
    {
        const string service = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2, "0::/user.slice/user-1000.slice/user@1000.service/app.slice/me.scope\n")
        {
            AllWritable = false,
        };
        fs.AddCgroup("/sys/fs/cgroup", "memory pids");
        fs.AddCgroup(service, "memory pids");
        fs.AddCgroup(service + "/app.slice", "memory pids");
        fs.AddCgroup(service + "/app.slice/me.scope", procs: "4242\n");
        foreach (var dir in new[] { service, service + "/app.slice", service + "/app.slice/me.scope" })
        {
            fs.Writable.Add(dir);
            fs.Writable.Add(dir + "/cgroup.procs");
        }

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: false);

        layout.IsDelegated.Should().BeTrue();
        layout.BoxRoot.Should().Be(service + "/boxlite");
        layout.Support("memory").Backend.Should().Be(LimitBackend.V2);
        layout.Support("cpu").Backend.Should().Be(LimitBackend.None);
    }

    [Fact]
    public void A_delegated_leaf_holding_this_process_cannot_enable_controllers()
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2, "0::/user.slice/run-1.scope\n") { AllWritable = false };
        fs.AddCgroup("/sys/fs/cgroup", "memory pids");
        fs.AddCgroup("/sys/fs/cgroup/user.slice/run-1.scope", "memory pids", procs: "4242\n");
        fs.Writable.Add("/sys/fs/cgroup/user.slice/run-1.scope");
        fs.Writable.Add("/sys/fs/cgroup/user.slice/run-1.scope/cgroup.procs");

        var layout = CgroupDiscovery.Discover(fs, "boxlite", isRoot: false);

        layout.BoxRoot.Should().Be("/sys/fs/cgroup/user.slice/run-1.scope/boxlite");
        layout.Support("memory").Detail.Should().Contain("no-internal-processes");
    }
}
