using Boxlite.Runtime.MacOS.Isolation;
using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime.MacOS.Tests;

public sealed class MacOSPlatformTests : IDisposable
{
    private readonly List<TestBox> _boxes = [];

    private TestBox Box(BoxOptions options)
    {
        var box = new TestBox(options);
        _boxes.Add(box);
        return box;
    }

    private static MacOSBoxPlatform Platform(MacOSOptions? options = null, string home = "/tmp/boxlite-home") =>
        new(new BoxliteOptions { HomeDirectory = home }, options ?? new MacOSOptions(), new FakeProcessTable(), FileSystemPathCanonicalizer.Instance);

    private static BoxOptions Seatbelt => new() { Command = "/bin/echo", Args = ["hi"], Isolation = BoxIsolation.Seatbelt };

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public void Linux_isolations_are_refused_with_a_fix(BoxIsolation isolation)
    {
        var ensure = () => Platform().EnsureSupported(new BoxOptions { Command = "/bin/true", Isolation = isolation });

        ensure.Should().Throw<PlatformCapabilityException>()
            .Which.Fix.Should().Contain("Seatbelt");
    }

    public static TheoryData<BoxLimits, string> Limits => new()
    {
        { new BoxLimits { MemoryBytes = 1 << 20 }, "memory" },
        { new BoxLimits { Cpus = 0.5 }, "CPU" },
        { new BoxLimits { PidsMax = 10 }, "RLIMIT_NPROC" },
    };

    [Theory]
    [MemberData(nameof(Limits))]
    public void A_limit_macOS_cannot_enforce_per_box_is_refused(BoxLimits limits, string reason)
    {
        var ensure = () => Platform().EnsureSupported(new BoxOptions { Command = "/bin/true", Limits = limits });

        ensure.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Contain(reason);
    }

    [Fact]
    public void A_stop_signal_macOS_lacks_is_refused()
    {
        var ensure = () => Platform().EnsureSupported(new BoxOptions { Command = "/bin/true", StopSignal = "PWR" });

        ensure.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Be("macOS has no signal PWR");
    }

    [Fact]
    public void Invalid_macOS_options_are_refused_before_anything_is_created()
    {
        var options = new MacOSOptions { ProfilePath = "relative.sb" };
        options.ReadOnlyPaths.Add("also/relative");

        var ensure = () => Platform(options).EnsureSupported(Seatbelt);

        ensure.Should().Throw<PlatformCapabilityException>().Which.Reason.Should().Contain("ProfilePath").And.Contain("also/relative");
    }

    [Fact]
    public void Off_macOS_a_supported_box_is_still_refused_with_the_platform_to_use()
    {
        Assert.SkipWhen(OperatingSystem.IsMacOS(), "checks the refusal off macOS");

        var ensure = () => Platform().EnsureSupported(Seatbelt);

        ensure.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain("AddLinux()");
    }

    [Fact]
    public async Task A_seatbelt_box_runs_under_its_keeper_then_sandbox_exec_by_absolute_path_with_a_private_temp()
    {
        var box = Box(Seatbelt);

        var plan = await Platform().PrepareAsync(box.Context, TestContext.Current.CancellationToken);

        var keeper = GroupKeeperScript.KeeperPrefix(GroupKeepers.BoxKeeperFile(box.Context));
        plan.CommandPrefix.Take(keeper.Count).Should().Equal(keeper);
        var rest = plan.CommandPrefix.Skip(keeper.Count).ToList();
        var temp = Path.Combine(box.Directory, "tmp");
        rest.Take(3).Should().Equal("/usr/bin/env", "TMPDIR=" + temp, "/usr/bin/sandbox-exec");
        rest[3].Should().Be("-p");
        rest[4].Should().StartWith("(version 1)\n(deny default)").And.Contain($"(subpath \"{box.Context.WorkDirectory}\")")
            .And.NotContain($"(subpath \"{box.Directory}\")");
        rest.Skip(5).Should().Equal(["--", .. MacOSBoxPlatform.ApplyEnvironment], "the box's environment is applied inside the sandbox, right before the command");
        Directory.Exists(temp).Should().BeTrue();
        plan.SessionPrefix.Should().Equal(GroupKeeperScript.SessionPrefix);
        plan.JoinFiles.Should().BeEmpty();
        plan.KillFile.Should().BeNull();
        plan.ProcsFile.Should().BeNull();
    }

    [Fact]
    public async Task The_generated_profile_writes_only_the_work_directory_and_reads_the_command_and_working_directory()
    {
        var box = Box(Seatbelt with { WorkingDirectory = "/srv/work" });
        var platform = Platform();

        var policy = platform.PolicyFor(box.Context, Path.Combine(box.Directory, "tmp"));

        policy.WorkDirectory.Should().Be(box.Context.WorkDirectory);
        policy.ReadPaths.Should().Equal("/bin/echo", "/srv/work");
        policy.AllowNetwork.Should().BeTrue();
        (await platform.PrepareAsync(box.Context, TestContext.Current.CancellationToken)).CommandPrefix
            .Should().Contain(p => p.Contains("(allow network*)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_box_that_sets_its_own_TMPDIR_keeps_it()
    {
        var box = Box(Seatbelt with { Environment = new Dictionary<string, string> { ["TMPDIR"] = "/elsewhere" } });

        var plan = await Platform().PrepareAsync(box.Context, TestContext.Current.CancellationToken);

        plan.CommandPrefix.Should().NotContain("/usr/bin/env");
    }

    [Fact]
    public async Task A_custom_profile_runs_through_sandbox_exec_f_with_the_box_parameters()
    {
        var box = Box(Seatbelt);
        var profile = Path.Combine(box.Home, "custom.sb");
        await File.WriteAllTextAsync(profile, "(version 1)(allow default)", TestContext.Current.CancellationToken);

        var plan = await Platform(new MacOSOptions { ProfilePath = profile }).PrepareAsync(box.Context, TestContext.Current.CancellationToken);

        var sandbox = plan.CommandPrefix.SkipWhile(p => p != "/usr/bin/sandbox-exec").ToList();
        sandbox.Should().Equal(["/usr/bin/sandbox-exec", "-f", profile, "-D", "BOX_DIR=" + box.Context.WorkDirectory,
            "-D", "BOX_TMP=" + Path.Combine(box.Directory, "tmp"), "--", .. MacOSBoxPlatform.ApplyEnvironment]);
    }

    [Fact]
    public async Task A_box_without_isolation_runs_under_its_keeper_only()
    {
        var box = Box(new BoxOptions { Command = "/bin/true" });

        var plan = await Platform().PrepareAsync(box.Context, TestContext.Current.CancellationToken);

        plan.CommandPrefix.Should().Equal([.. GroupKeeperScript.KeeperPrefix(GroupKeepers.BoxKeeperFile(box.Context)), .. MacOSBoxPlatform.ApplyEnvironment]);
    }

    [Fact]
    public async Task Each_exec_gets_a_keeper_of_its_own_registered_beside_the_box()
    {
        var box = Box(new BoxOptions { Command = "/bin/true" });
        var platform = Platform();

        var first = await platform.PrepareExecAsync(box.Context, TestContext.Current.CancellationToken);
        var second = await platform.PrepareExecAsync(box.Context, TestContext.Current.CancellationToken);

        first.CommandPrefix[3].Should().StartWith(GroupKeepers.DirectoryOf(box.Context) + "/exec-").And.NotBe(second.CommandPrefix[3]);
        first.SessionPrefix.Should().BeEmpty();
    }

    [Fact]
    public void Diagnose_names_the_process_group_guarantee_and_what_it_does_not_cover()
    {
        var checks = Platform().Diagnose();

        checks.Should().Contain(c => c.Name == "reaper" && c.Detail.Contains("guarantee = process group", StringComparison.Ordinal));
        checks.Should().Contain(c => c.Name == "whole-tree reaping" && !c.Ok && c.Detail.Contains("setsid", StringComparison.Ordinal));
        checks.Should().Contain(c => c.Name == "seatbelt isolation" && c.Ok == File.Exists("/usr/bin/sandbox-exec"));
        checks.Should().Contain(c => c.Name == "resource limits" && !c.Ok);
    }

    [Fact]
    public void The_platform_names_itself_and_its_reaper()
    {
        var platform = Platform();

        platform.Name.Should().Be("macos");
        platform.IsCurrentOperatingSystem.Should().Be(OperatingSystem.IsMacOS());
        platform.Reaper.Guarantee.Should().Be(ReapGuarantee.ProcessGroup);
    }

    [Fact]
    public void The_factory_builds_the_platform_with_a_registered_reaper_named_in_the_options()
    {
        var custom = new CustomReaper();
        var context = new PlatformContext(new BoxliteOptions { HomeDirectory = "/tmp/x", Reaper = CustomReaper.MethodName }, NullLoggerFactory.Instance, TimeProvider.System, [custom]);

        var platform = new MacOSPlatform(new MacOSOptions()).Create(context);

        platform.Name.Should().Be("macos");
        platform.Reaper.Should().BeSameAs(custom);
        platform.Diagnose().Should().Contain(c => c.Name == "active reaper" && c.Detail.StartsWith("custom-stub (WholeTree, custom)", StringComparison.Ordinal));
    }

    [Fact]
    public void The_console_builder_gets_no_macOS_platform_off_macOS()
    {
        Assert.SkipWhen(OperatingSystem.IsMacOS(), "checks the no-op off macOS");

        var act = () => new BoxliteRuntimeBuilder().AddMacOS().AddMacOS(o => o.AllowNetwork = false).Diagnose();

        act.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain("AddLinux()");
    }

    private sealed class Builder : IBoxliteBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();
    }

    [Fact]
    public void AddMacOS_registers_no_platform_off_macOS_and_is_safe_to_call_twice()
    {
        Assert.SkipWhen(OperatingSystem.IsMacOS(), "checks the no-op off macOS");
        var builder = new Builder();

        var returned = builder.AddMacOS().AddMacOS(o => o.AllowNetwork = false);

        returned.Should().BeSameAs(builder);
        builder.Services.Should().NotContain(d => d.ServiceType == typeof(BoxPlatformFactory));
    }

    [Fact]
    public void AddMacOS_on_macOS_registers_the_platform_once()
    {
        Assert.SkipUnless(OperatingSystem.IsMacOS(), "needs macOS");
        var builder = new Builder();

        builder.AddMacOS().AddMacOS();

        builder.Services.Count(d => d.ServiceType == typeof(BoxPlatformFactory)).Should().Be(1);
    }

    private sealed class CustomReaper : ITreeReaper
    {
        public const string MethodName = "custom-stub";

        public string Name => MethodName;

        public ReapGuarantee Guarantee => ReapGuarantee.WholeTree;

        public ReaperSupport Support => new(true, "stub");

        public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken) => ValueTask.FromResult(new BoxLaunchPlan());

        public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>([]);

        public ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken) =>
            ValueTask.FromResult(ReapReport.Nothing(Name, Guarantee));
    }

    public void Dispose()
    {
        foreach (var box in _boxes)
        {
            box.Dispose();
        }
    }
}
