using Boxlite.Runtime.Linux.Cgroups;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>Box cgroups through the filesystem seam: pure v2 (kept to the v2 rules by the fake) and hybrid hosts.</summary>
public sealed class BoxCgroupsTests
{
    private const string Box = "/sys/fs/cgroup/boxlite/abcdefghij012345";
    private static readonly BoxId Id = BoxId.Parse("abcdefghij012345");
    private static readonly BoxLimits AllLimits = new() { MemoryBytes = 64 << 20, Cpus = 0.5, PidsMax = 100 };

    private static (FakeCgroupFileSystem Fs, BoxCgroups Cgroups) PureV2(string controllers = "cpu memory pids", string parent = "boxlite")
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2) { V2Root = "/sys/fs/cgroup" };
        fs.AddCgroup("/sys/fs/cgroup", controllers);
        fs.AddCgroup("/sys/fs/cgroup/system.slice");
        return (fs, new BoxCgroups(CgroupDiscovery.Discover(fs, parent, isRoot: true), fs));
    }

    private static (FakeCgroupFileSystem Fs, BoxCgroups Cgroups) Hybrid(string parent = "boxlite")
    {
        var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.Hybrid) { V2Root = "/sys/fs/cgroup/unified" };
        fs.AddCgroup("/sys/fs/cgroup/unified", "hugetlb");
        fs.AddCgroup("/sys/fs/cgroup/unified/init.scope");
        foreach (var v1 in new[] { "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids" })
        {
            fs.AddCgroup(v1);
        }

        return (fs, new BoxCgroups(CgroupDiscovery.Discover(fs, parent, isRoot: true), fs));
    }

    [Fact]
    public void On_pure_v2_the_limits_bind_the_command_cgroup_and_the_monitor_joins_an_unlimited_sibling()
    {
        var (fs, cgroups) = PureV2();

        var plan = cgroups.Create(Id, AllLimits, BoxIsolation.None);

        plan.MonitorJoinFiles.Should().Equal($"{Box}/monitor/cgroup.procs");
        plan.CommandJoinFiles.Should().Equal($"{Box}/cmd/cgroup.procs");
        fs.Files[$"{Box}/cmd/memory.max"].Should().Be("67108864");
        fs.Files[$"{Box}/cmd/cpu.max"].Should().Be("50000 100000");
        fs.Files[$"{Box}/cmd/pids.max"].Should().Be("100");
        fs.Files[$"{Box}/monitor/memory.max"].Should().Be("max");
        fs.Files[$"{Box}/monitor/pids.max"].Should().Be("max");
        fs.Files[$"{Box}/memory.max"].Should().Be("max");
    }

    [Fact]
    public void On_pure_v2_the_box_cgroup_enables_the_limited_controllers_and_holds_no_process_itself()
    {
        var (fs, cgroups) = PureV2();

        var plan = cgroups.Create(Id, AllLimits, BoxIsolation.None);
        var join = () =>
        {
            // As the monitor and the command's wrapper join: the fake refuses a join that breaks the no-internal-processes rule.
            plan.MonitorJoinFiles.ToList().ForEach(f => fs.Write(f, "100"));
            plan.CommandJoinFiles.ToList().ForEach(f => fs.Write(f, "101"));
        };

        join.Should().NotThrow();
        fs.Files["/sys/fs/cgroup/cgroup.subtree_control"].Should().Be("memory cpu pids");
        fs.Files["/sys/fs/cgroup/boxlite/cgroup.subtree_control"].Should().Be("memory cpu pids");
        fs.Files[$"{Box}/cgroup.subtree_control"].Should().Be("memory cpu pids");
        fs.Files[$"{Box}/cgroup.procs"].Should().BeEmpty();
        cgroups.ReadProcesses(cgroups.Of(Id)).Should().BeEquivalentTo([100, 101]);
    }

    [Fact]
    public void On_pure_v2_a_box_without_limits_enables_no_controller_for_its_children()
    {
        var (fs, cgroups) = PureV2();

        cgroups.Create(Id, BoxLimits.None, BoxIsolation.None);

        fs.Files[$"{Box}/cgroup.subtree_control"].Should().BeEmpty();
        fs.Writes.Should().NotContain(w => w.Path.StartsWith(Box + "/cmd/", StringComparison.Ordinal));
    }

    [Fact]
    public void On_a_hybrid_host_only_the_command_joins_the_v1_controllers_that_hold_the_limits()
    {
        var (fs, cgroups) = Hybrid();

        var plan = cgroups.Create(Id, new BoxLimits { MemoryBytes = 4 << 20, Cpus = 2, PidsMax = 7 }, BoxIsolation.None);

        plan.MonitorJoinFiles.Should().Equal("/sys/fs/cgroup/unified/boxlite/abcdefghij012345/monitor/cgroup.procs");
        plan.CommandJoinFiles.Should().Equal(
            "/sys/fs/cgroup/unified/boxlite/abcdefghij012345/cmd/cgroup.procs",
            "/sys/fs/cgroup/memory/boxlite/abcdefghij012345/cgroup.procs",
            "/sys/fs/cgroup/cpu,cpuacct/boxlite/abcdefghij012345/cgroup.procs",
            "/sys/fs/cgroup/pids/boxlite/abcdefghij012345/cgroup.procs");
        fs.Files["/sys/fs/cgroup/memory/boxlite/abcdefghij012345/memory.limit_in_bytes"].Should().Be("4194304");
        fs.Files["/sys/fs/cgroup/cpu,cpuacct/boxlite/abcdefghij012345/cpu.cfs_quota_us"].Should().Be("200000");
        fs.Files["/sys/fs/cgroup/pids/boxlite/abcdefghij012345/pids.max"].Should().Be("7");
    }

    [Theory]
    [InlineData(0.0000001, null, null, BoxIsolation.None, "0.01 CPUs")]
    [InlineData(0.009, null, null, BoxIsolation.None, "0.01 CPUs")]
    [InlineData(null, 4096L, null, BoxIsolation.None, "1048576 bytes")]
    [InlineData(null, 1L, null, BoxIsolation.None, "1048576 bytes")]
    [InlineData(null, 2L << 20, null, BoxIsolation.PidNamespace, "4194304 bytes")]
    [InlineData(null, null, 2, BoxIsolation.PidNamespace, "the 3 a box with isolation PidNamespace needs")]
    [InlineData(null, null, 1, BoxIsolation.Bubblewrap, "the 3 a box with isolation Bubblewrap needs")]
    public void A_limit_below_what_can_be_enforced_is_refused_naming_the_minimum_before_anything_is_created(
        double? cpus, long? memory, int? pids, BoxIsolation isolation, string minimum)
    {
        var (fs, cgroups) = PureV2();
        var before = fs.Directories.Count;

        var act = () => cgroups.Create(Id, new BoxLimits { Cpus = cpus, MemoryBytes = memory, PidsMax = pids }, isolation);

        act.Should().Throw<InvalidBoxOptionsException>().WithMessage($"*{minimum}*");
        fs.Directories.Should().HaveCount(before);
    }

    [Theory]
    [InlineData(0.01, "1000 100000")]
    [InlineData(0.015, "1500 100000")]
    public void A_cpu_limit_at_or_above_the_minimum_is_written_as_asked(double cpus, string written)
    {
        var (fs, cgroups) = PureV2();

        cgroups.Create(Id, new BoxLimits { Cpus = cpus }, BoxIsolation.None);

        fs.Files[$"{Box}/cmd/cpu.max"].Should().Be(written);
    }

    [Fact]
    public void The_minimums_themselves_are_accepted()
    {
        var (_, cgroups) = PureV2();

        foreach (var isolation in new[] { BoxIsolation.None, BoxIsolation.PidNamespace, BoxIsolation.Bubblewrap })
        {
            var limits = new BoxLimits { MemoryBytes = BoxCgroups.MinimumMemoryBytes(isolation), PidsMax = BoxCgroups.MinimumPids(isolation), Cpus = BoxCgroups.MinimumCpus };
            cgroups.Invoking(c => c.EnsureLimitsSupported(limits, isolation)).Should().NotThrow();
        }
    }

    [Fact]
    public void A_limit_the_host_cannot_enforce_is_refused_before_anything_is_created()
    {
        var (fs, cgroups) = PureV2(controllers: "memory");
        var before = fs.Directories.Count;

        var act = () => cgroups.Create(Id, new BoxLimits { PidsMax = 10 }, BoxIsolation.None);

        act.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Contain("pids");
        fs.Directories.Should().HaveCount(before);
    }

    [Fact]
    public void A_failed_limit_write_removes_everything_already_created()
    {
        var (fs, cgroups) = Hybrid();
        fs.FailingWrites.Add("/sys/fs/cgroup/pids/boxlite/abcdefghij012345/pids.max");

        var act = () => cgroups.Create(Id, new BoxLimits { PidsMax = 10 }, BoxIsolation.None);

        act.Should().Throw<BoxStartException>().WithMessage("*pids.max*");
        fs.Directories.Where(d => d.Contains(Id.Value, StringComparison.Ordinal)).Should().BeEmpty();
    }

    [Fact]
    public void A_read_only_cgroup_filesystem_fails_the_setup_with_the_reason()
    {
        var (fs, cgroups) = PureV2();
        fs.AllWritable = false;

        var act = () => cgroups.Create(Id, BoxLimits.None, BoxIsolation.None);

        act.Should().Throw<BoxStartException>().WithMessage("*mkdir*");
    }

    [Fact]
    public async Task Removal_takes_the_command_cgroup_first_and_the_v1_counterparts_too()
    {
        var (fs, cgroups) = Hybrid();
        cgroups.Create(Id, new BoxLimits { PidsMax = 3 }, BoxIsolation.None);

        var failure = await cgroups.RemoveAsync(cgroups.Of(Id), CancellationToken.None);

        failure.Should().BeNull();
        fs.Directories.Where(d => d.Contains(Id.Value, StringComparison.Ordinal)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_last_box_of_an_own_parent_takes_the_parent_with_it_in_every_hierarchy()
    {
        var (fs, cgroups) = Hybrid(parent: "boxlite-0123456789ab");
        var other = BoxId.Parse("zzzzzzzzzz012345");
        cgroups.Create(Id, new BoxLimits { PidsMax = 3 }, BoxIsolation.None);
        cgroups.Create(other, BoxLimits.None, BoxIsolation.None);

        await cgroups.RemoveAsync(cgroups.Of(Id), CancellationToken.None);
        var afterFirst = fs.Directories.Where(d => d.EndsWith("/boxlite-0123456789ab", StringComparison.Ordinal)).ToList();
        await cgroups.RemoveAsync(cgroups.Of(other), CancellationToken.None);

        afterFirst.Should().BeEquivalentTo("/sys/fs/cgroup/unified/boxlite-0123456789ab", "/sys/fs/cgroup/memory/boxlite-0123456789ab");
        fs.Directories.Should().NotContain(d => d.Contains("boxlite-0123456789ab", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_parent_not_named_as_the_library_own_is_never_removed()
    {
        var (fs, cgroups) = PureV2(parent: "system.slice/mine");
        cgroups.Create(Id, BoxLimits.None, BoxIsolation.None);

        await cgroups.RemoveAsync(cgroups.Of(Id), CancellationToken.None);

        cgroups.RemoveEmptyParents().Should().Be(0);
        fs.Directories.Should().Contain("/sys/fs/cgroup/system.slice/mine");
    }

    [Fact]
    public void Prune_removes_an_empty_own_parent_and_keeps_one_with_boxes()
    {
        var (fs, cgroups) = Hybrid(parent: "boxlite-0123456789ab");
        cgroups.Create(Id, BoxLimits.None, BoxIsolation.None);

        var whileUsed = cgroups.RemoveEmptyParents();
        foreach (var dir in fs.Directories.Where(d => d.Contains(Id.Value, StringComparison.Ordinal)).OrderByDescending(d => d.Length).ToList())
        {
            fs.RemoveDirectory(dir).Should().Be(0);
        }

        var once = cgroups.RemoveEmptyParents();

        whileUsed.Should().Be(0);
        once.Should().Be(2, "the v2 parent and the v1 memory parent were left empty");
        fs.Directories.Should().NotContain(d => d.Contains("boxlite-0123456789ab", StringComparison.Ordinal));
    }

    [Fact]
    public void A_create_whose_parent_another_process_removes_meanwhile_makes_it_again()
    {
        var (fs, cgroups) = Hybrid(parent: "boxlite-0123456789ab");
        fs.RemovedAfterCreating["/sys/fs/cgroup/unified/boxlite-0123456789ab"] = "/sys/fs/cgroup/unified/boxlite-0123456789ab";
        fs.RemovedAfterCreating["/sys/fs/cgroup/memory/boxlite-0123456789ab"] = "/sys/fs/cgroup/memory/boxlite-0123456789ab";

        var plan = cgroups.Create(Id, BoxLimits.None, BoxIsolation.None);

        fs.RemovedAfterCreating.Should().BeEmpty("both removals happened");
        plan.CommandJoinFiles.Should().OnlyContain(f => fs.Files.ContainsKey(f));
        plan.MonitorJoinFiles.Should().OnlyContain(f => fs.Files.ContainsKey(f));
    }

    [Fact]
    public void A_box_is_found_at_its_recorded_cgroup_path_whatever_this_runtime_derives()
    {
        var (_, cgroups) = Hybrid(parent: "boxlite-aaaaaaaaaaaa");
        var info = new BoxInfo
        {
            Id = Id, State = BoxState.Running, Options = new BoxOptions { Command = "x" }, CreatedAt = DateTimeOffset.UtcNow,
            Containment = "/boxlite-bbbbbbbbbbbb/" + Id.Value,
        };

        var recorded = cgroups.Of(info);

        recorded.Directory.Should().Be("/sys/fs/cgroup/unified/boxlite-bbbbbbbbbbbb/abcdefghij012345");
        recorded.V1Directories["memory"].Should().Be("/sys/fs/cgroup/memory/boxlite-bbbbbbbbbbbb/abcdefghij012345");
        cgroups.Of(info with { Containment = null }).Directory.Should().Be("/sys/fs/cgroup/unified/boxlite-aaaaaaaaaaaa/abcdefghij012345");
    }

    [Theory]
    [InlineData("/boxlite-bbbbbbbbbbbb/zzzzzzzzzz012345")]
    [InlineData("/boxlite-bbbbbbbbbbbb/../abcdefghij012345")]
    [InlineData("boxlite-bbbbbbbbbbbb/abcdefghij012345")]
    [InlineData("/abcdefghij012345/../../abcdefghij012345")]
    public void A_recorded_path_that_is_not_the_box_own_is_ignored(string recorded)
    {
        var (_, cgroups) = Hybrid(parent: "boxlite-aaaaaaaaaaaa");
        var info = new BoxInfo { Id = Id, State = BoxState.Running, Options = new BoxOptions { Command = "x" }, CreatedAt = DateTimeOffset.UtcNow, Containment = recorded };

        cgroups.Of(info).Directory.Should().Be("/sys/fs/cgroup/unified/boxlite-aaaaaaaaaaaa/abcdefghij012345");
    }
}
