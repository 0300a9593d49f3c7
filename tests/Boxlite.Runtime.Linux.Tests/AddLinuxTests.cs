using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class AddLinuxTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "boxlite-test-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    [Fact]
    public void AddLinux_registers_one_platform_however_often_it_is_called()
    {
        var services = new ServiceCollection();

        services.AddBoxlite().AddLinux().AddLinux(o => o.CgroupParent = "x");

        services.Count(s => s.ServiceType == typeof(BoxPlatformFactory)).Should().Be(OperatingSystem.IsLinux() ? 1 : 0);
        services.Count(s => s.ServiceType == typeof(IValidateOptions<LinuxOptions>)).Should().Be(OperatingSystem.IsLinux() ? 1 : 0);
    }

    [Fact]
    public async Task The_platform_from_the_container_names_its_reaper_and_a_capability_report()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        await using var provider = Provider(services => services.AddBoxlite(o => o.HomeDirectory = _home).AddLinux(o => o.CgroupParent = "boxlite-linuxtest-di"));

        var platform = (LinuxBoxPlatform)provider.GetRequiredService<BoxRuntime>().Platform;

        platform.Name.Should().Be("linux");
        platform.Layout.Parent.Should().Be("boxlite-linuxtest-di");
        platform.Reaper.Name.Should().BeOneOf(CgroupKillReaper.MethodName, CgroupFreezeKillReaper.MethodName, PidNamespaceInitReaper.MethodName, SinglePidReaper.MethodName);
        platform.Diagnose().Should().Contain(c => c.Name == "active reaper" && c.Detail.Contains("built-in", StringComparison.Ordinal));
        platform.CurrentProcess.Pid.Should().Be(Environment.ProcessId);
    }

    [Fact]
    public void An_unknown_reaper_name_is_refused_with_the_names_that_exist()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");

        var act = () => new BoxliteRuntimeBuilder().Configure(o => o.Reaper = "nope").AddLinux().Diagnose();

        act.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain(CgroupKillReaper.MethodName);
    }

    [Fact]
    public async Task A_host_calling_both_AddLinux_and_AddMacOS_runs_on_the_Linux_platform_here()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        await using var provider = Provider(services => services.AddBoxlite(o => o.HomeDirectory = _home).AddLinux().AddMacOS().AddLinux().AddMacOS());

        var runtime = provider.GetRequiredService<BoxRuntime>();

        runtime.Platform.Name.Should().Be("linux");
        provider.GetServices<BoxPlatformFactory>().Should().ContainSingle();
    }

    [Fact]
    public async Task The_cgroup_parent_is_bound_from_the_Linux_sub_section_and_code_configuration_wins_over_it()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Boxlite:HomeDirectory"] = _home,
            ["Boxlite:Linux:CgroupParent"] = "boxlite-linuxtest-bound",
        }).Build();
        await using var bound = Provider(services => services.AddBoxlite(configuration.GetSection("Boxlite")).AddLinux());
        await using var overridden = Provider(services => services.AddBoxlite(configuration.GetSection("Boxlite")).AddLinux(o => o.CgroupParent = "boxlite-linuxtest-code"));

        ((LinuxBoxPlatform)bound.GetRequiredService<BoxRuntime>().Platform).Layout.Parent.Should().Be("boxlite-linuxtest-bound");
        ((LinuxBoxPlatform)overridden.GetRequiredService<BoxRuntime>().Platform).Layout.Parent.Should().Be("boxlite-linuxtest-code");
    }

    [Fact]
    public async Task The_container_and_the_console_builder_make_the_same_Linux_runtime()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Boxlite:HomeDirectory"] = _home,
            ["Boxlite:ReapTimeout"] = "00:00:07",
            ["Boxlite:Reaper"] = SinglePidReaper.MethodName,
            ["Boxlite:Linux:CgroupParent"] = "boxlite-linuxtest-same",
        }).Build();
        await using var provider = Provider(services => services.AddBoxlite(configuration.GetSection("Boxlite")).AddLinux());
        var fromContainer = provider.GetRequiredService<BoxRuntime>();

        await using var fromBuilder = new BoxliteRuntimeBuilder()
            .Configure(o =>
            {
                o.HomeDirectory = _home;
                o.ReapTimeout = TimeSpan.FromSeconds(7);
                o.Reaper = SinglePidReaper.MethodName;
            })
            .AddLinux(o => o.CgroupParent = "boxlite-linuxtest-same")
            .Build();

        Describe(fromContainer).Should().Be(Describe(fromBuilder)).And.Contain("boxlite-linuxtest-same").And.Contain(SinglePidReaper.MethodName);

        static string Describe(BoxRuntime r) =>
            $"{r.Options.ResolvedHomeDirectory} {r.Options.ReapTimeout} {r.ReaperName} {((LinuxBoxPlatform)r.Platform).Layout.Parent} {r.Store.Location}";
    }

    [Fact]
    public async Task An_invalid_cgroup_parent_fails_the_host_start_and_the_console_build()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o => o.HomeDirectory = _home).AddLinux(o => o.CgroupParent = "../escape");
        using var host = builder.Build();

        var start = () => host.StartAsync(TestContext.Current.CancellationToken);
        var build = () => new BoxliteRuntimeBuilder().Configure(o => o.HomeDirectory = _home).AddLinux(o => o.CgroupParent = "/abs").BuildAsync(TestContext.Current.CancellationToken);

        (await start.Should().ThrowAsync<OptionsValidationException>()).WithMessage("*CgroupParent must be a relative cgroup path*");
        (await build.Should().ThrowAsync<InvalidBoxOptionsException>()).WithMessage("*CgroupParent must be a relative cgroup path*");
        Directory.Exists(_home).Should().BeFalse();
    }

    [Fact]
    public void Each_home_gets_its_own_cgroup_parent_unless_one_is_set()
    {
        var a = new BoxliteOptions { HomeDirectory = "/srv/a" }.ResolvedHomeDirectory;
        var b = new BoxliteOptions { HomeDirectory = "/srv/b" }.ResolvedHomeDirectory;

        new LinuxOptions().CgroupParentFor(a).Should().MatchRegex("^boxlite-[0-9a-f]{12}$").And.NotBe(new LinuxOptions().CgroupParentFor(b));
        new LinuxOptions().CgroupParentFor(new BoxliteOptions { HomeDirectory = "/srv/a/" }.ResolvedHomeDirectory).Should().Be(new LinuxOptions().CgroupParentFor(a));
        new LinuxOptions { CgroupParent = "mine" }.CgroupParentFor(a).Should().Be("mine");
    }

    private static ServiceProvider Provider(Action<IServiceCollection> register)
    {
        var services = new ServiceCollection();
        register(services);
        return services.BuildServiceProvider();
    }
}
