using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.DependencyInjection;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class AddLinuxTests
{
    private sealed class Builder(IServiceCollection services) : IBoxliteBuilder
    {
        public IServiceCollection Services => services;
    }

    [Fact]
    public void AddLinux_registers_one_platform_however_often_it_is_called()
    {
        var services = new ServiceCollection();
        var builder = new Builder(services);

        builder.AddLinux().AddLinux();

        services.Count(s => s.ServiceType == typeof(IBoxPlatform)).Should().Be(OperatingSystem.IsLinux() ? 1 : 0);
    }

    [Fact]
    public void The_platform_from_the_container_names_its_reaper_and_a_capability_report()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var services = new ServiceCollection();
        services.Configure<BoxliteOptions>(o => o.CgroupParent = "boxlite-linuxtest-di");
        new Builder(services).AddLinux();
        using var provider = services.BuildServiceProvider();

        var platform = provider.GetServices<IBoxPlatform>().Single();

        platform.Name.Should().Be("linux");
        platform.Reaper.Name.Should().BeOneOf(CgroupKillReaper.MethodName, CgroupFreezeKillReaper.MethodName, PidNamespaceInitReaper.MethodName, SinglePidReaper.MethodName);
        platform.Diagnose().Should().Contain(c => c.Name == "active reaper");
        platform.CurrentProcess.Pid.Should().Be(Environment.ProcessId);
    }

    [Fact]
    public void An_unknown_reaper_name_is_refused_with_the_names_that_exist()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");

        var act = () => LinuxPlatform.Create(new BoxliteOptions { Reaper = "nope" });

        act.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain(CgroupKillReaper.MethodName);
    }

    [Fact]
    public async Task A_host_calling_both_AddLinux_and_AddMacOS_runs_on_the_Linux_platform_here()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var home = Path.Combine(Path.GetTempPath(), "boxlite-test-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var services = new ServiceCollection();
            services.AddBoxlite(o => o.HomeDirectory = home).AddLinux().AddMacOS().AddLinux().AddMacOS();
            await using var provider = services.BuildServiceProvider();

            provider.GetServices<IBoxPlatform>().Should().ContainSingle().Which.Name.Should().Be("linux");
            var runtime = provider.GetRequiredService<IBoxRuntime>();
            runtime.ReaperName.Should().Be(provider.GetServices<IBoxPlatform>().Single().Reaper.Name);
        }
        finally
        {
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
    }
}
