using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Tests;

public sealed class HostingTests : IDisposable
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
    public async Task AddBoxlite_resolves_a_runtime_on_the_registered_platform()
    {
        var platform = new FakePlatform();
        await using var provider = Services(platform).BuildServiceProvider();

        var runtime = provider.GetRequiredService<IBoxRuntime>();

        runtime.ReaperName.Should().Be("fake-group");
        runtime.Guarantee.Should().Be(ReapGuarantee.ProcessGroup);
    }

    [Fact]
    public void Calling_AddBoxlite_twice_registers_everything_once()
    {
        var services = new ServiceCollection();
        services.AddBoxlite(o => o.HomeDirectory = _home);
        services.AddBoxlite(o => o.HomeDirectory = _home);

        services.Count(d => d.ServiceType == typeof(IBoxRuntime)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IBoxStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
    }

    [Fact]
    public async Task Invalid_settings_fail_the_host_start_with_every_problem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o =>
        {
            o.HomeDirectory = "relative";
            o.ReapTimeout = TimeSpan.Zero;
        });
        builder.Services.AddSingleton<IBoxPlatform>(new FakePlatform());
        builder.Services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        using var host = builder.Build();

        var act = () => host.StartAsync(TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().HaveCount(2);
    }

    [Fact]
    public async Task Without_a_platform_for_this_system_the_host_start_names_the_package_to_add()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o => o.HomeDirectory = _home);
        builder.Services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        builder.Services.AddSingleton<IBoxPlatform>(new FakePlatform { IsCurrentOperatingSystem = false });
        using var host = builder.Build();

        var act = () => host.StartAsync(TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<PlatformCapabilityException>()).Which.Fix.Should().Contain("Boxlite.Runtime.Linux").And.Contain("AddLinux()");
    }

    [Fact]
    public async Task The_hosted_service_recovers_on_start_and_stops_attached_boxes_on_shutdown()
    {
        var platform = new FakePlatform();
        var store = new InMemoryBoxStore();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o => o.HomeDirectory = _home);
        builder.Services.AddSingleton<IBoxPlatform>(platform);
        builder.Services.AddSingleton<IBoxStore>(store);

        // A record whose half-finished start recovery must clean: its starter is dead.
        var dead = new ProcessIdentity(Environment.ProcessId, -1, Posix.BootId);
        var halfStarted = new BoxInfo { Id = BoxId.New(), State = BoxState.Starting, Options = new BoxOptions { Command = "true" }, CreatedAt = DateTimeOffset.UtcNow, Holder = dead, Version = 1 };
        store.Put(halfStarted);

        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        (await store.GetAsync(halfStarted.Id, TestContext.Current.CancellationToken))!.State.Should().Be(BoxState.Failed);

        var runtime = host.Services.GetRequiredService<IBoxRuntime>();
        var box = await runtime.RunAsync(new BoxOptions { Command = "sleep", Args = ["100"] }, TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        (await store.GetAsync(box.Id, TestContext.Current.CancellationToken))!.State.Should().Be(BoxState.Exited);
        Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task The_console_builder_refuses_invalid_settings_before_touching_anything()
    {
        var act = () => new BoxliteRuntimeBuilder().Configure(o => o.HomeDirectory = "relative").AddPlatform((_, _) => new FakePlatform()).BuildAsync(TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<InvalidBoxOptionsException>();
    }

    private ServiceCollection Services(FakePlatform platform)
    {
        var services = new ServiceCollection();
        services.AddBoxlite(o => o.HomeDirectory = _home);
        services.AddSingleton<IBoxPlatform>(platform);
        services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        return services;
    }
}
