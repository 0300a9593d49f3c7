using System.Diagnostics.Metrics;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

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

    private static CancellationToken Token => TestContext.Current.CancellationToken;

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
        services.AddBoxlite(new ConfigurationBuilder().Build());

        foreach (var type in new[] { typeof(IBoxRuntime), typeof(BoxRuntime), typeof(BoxliteHealthCheck), typeof(IHostedService), typeof(IValidateOptions<BoxliteOptions>) })
        {
            services.Count(d => d.ServiceType == type).Should().Be(1, $"{type.Name} is registered once");
        }
    }

    [Fact]
    public async Task The_container_and_the_console_builder_make_the_same_runtime()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryBoxStore();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton<IBoxStore>(store);
        services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory());
        services.AddBoxlite(Configure).AddTreeReaper(_ => new StubReaper("mine", ReapGuarantee.WholeTree));
        await using var provider = services.BuildServiceProvider();
        var fromContainer = provider.GetRequiredService<BoxRuntime>();

        await using var fromBuilder = new BoxliteRuntimeBuilder(new BoxliteOptions()).Configure(Configure)
            .UseTimeProvider(time).UseStore(store).AddPlatform(new FakePlatformFactory()).AddTreeReaper(new StubReaper("mine", ReapGuarantee.WholeTree))
            .Build();

        Describe(fromContainer).Should().Be(Describe(fromBuilder));
        fromContainer.Time.Should().BeSameAs(time);
        fromBuilder.Time.Should().BeSameAs(time);

        void Configure(BoxliteOptions o)
        {
            o.HomeDirectory = _home;
            o.ReapTimeout = TimeSpan.FromSeconds(3);
            o.MaxLogBytes = 4096;
            o.Reaper = "mine";
        }

        static string Describe(BoxRuntime r) =>
            $"{r.Options.ResolvedHomeDirectory} {r.Options.ReapTimeout} {r.Options.DefaultStopTimeout} {r.Options.MaxLogBytes} {r.Options.RecoverOnStart} " +
            $"{r.Platform.Name} {r.ReaperName} {r.Guarantee} {r.Store.Location}";
    }

    [Fact]
    public async Task Settings_are_bound_from_a_configuration_section()
    {
        var configuration = Configuration(new()
        {
            ["Boxlite:HomeDirectory"] = _home,
            ["Boxlite:ReapTimeout"] = "00:00:03",
            ["Boxlite:DefaultStopTimeout"] = "00:00:01.500",
            ["Boxlite:MaxLogBytes"] = "8192",
            ["Boxlite:Reaper"] = "fake-group",
            ["Boxlite:RecoverOnStart"] = "false",
        });
        var services = new ServiceCollection();
        services.AddBoxlite(configuration.GetSection("Boxlite"));
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<BoxliteOptions>>().Value;

        options.HomeDirectory.Should().Be(_home);
        options.ReapTimeout.Should().Be(TimeSpan.FromSeconds(3));
        options.DefaultStopTimeout.Should().Be(TimeSpan.FromMilliseconds(1500));
        options.MaxLogBytes.Should().Be(8192);
        options.Reaper.Should().Be("fake-group");
        options.RecoverOnStart.Should().BeFalse();
    }

    [Fact]
    public async Task BindConfiguration_binds_the_named_section_of_the_host_configuration_and_code_after_it_wins()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Configuration(new() { ["Apps:Boxes:HomeDirectory"] = _home, ["Apps:Boxes:MaxLogBytes"] = "8192" }));
        services.AddBoxlite().BindConfiguration("Apps:Boxes");
        services.Configure<BoxliteOptions>(o => o.MaxLogBytes = 2048);
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<BoxliteOptions>>().Value;

        options.HomeDirectory.Should().Be(_home);
        options.MaxLogBytes.Should().Be(2048);
    }

    [Fact]
    public async Task A_value_of_the_wrong_kind_in_the_configuration_fails_the_host_start_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(Configuration(new() { ["Boxlite:HomeDirectory"] = _home, ["Boxlite:ReapTimeout"] = "soon" }).GetSection("Boxlite"));
        builder.Services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory());
        builder.Services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        using var host = builder.Build();

        var act = () => host.StartAsync(Token);

        (await act.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*Boxlite:ReapTimeout*");
    }

    [Fact]
    public async Task The_meter_comes_from_the_hosts_meter_factory()
    {
        var services = Services(new FakePlatform());
        services.AddMetrics();
        await using var provider = services.BuildServiceProvider();
        var meterFactory = provider.GetRequiredService<IMeterFactory>();
        using var started = new MetricCollector<long>(meterFactory, BoxliteDiagnostics.SourceName, BoxliteDiagnostics.BoxesStartedCounter);
        using var reaps = new MetricCollector<long>(meterFactory, BoxliteDiagnostics.SourceName, BoxliteDiagnostics.ReapsCounter);
        var runtime = provider.GetRequiredService<IBoxRuntime>();

        var box = await runtime.RunAsync(new BoxOptions { Command = "true" }, Token);
        await box.WaitAsync(Token).WaitAsync(TimeSpan.FromSeconds(60), Token);

        started.GetMeasurementSnapshot().Should().ContainSingle().Which.Value.Should().Be(1);
        reaps.GetMeasurementSnapshot().Should().NotBeEmpty();
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
        builder.Services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory());
        builder.Services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        using var host = builder.Build();

        var act = () => host.StartAsync(Token);

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().HaveCount(2);
    }

    [Fact]
    public async Task Without_a_platform_for_this_system_the_host_start_names_the_package_to_add()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o => o.HomeDirectory = _home);
        builder.Services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        builder.Services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory(new FakePlatform { IsCurrentOperatingSystem = false }));
        using var host = builder.Build();

        var act = () => host.StartAsync(Token);

        (await act.Should().ThrowAsync<PlatformCapabilityException>()).Which.Fix.Should().Contain("Boxlite.Runtime.Linux").And.Contain("AddLinux()");
    }

    [Fact]
    public async Task The_hosted_service_recovers_on_start_and_stops_attached_boxes_on_shutdown()
    {
        var platform = new FakePlatform();
        var store = new InMemoryBoxStore();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddBoxlite(o => o.HomeDirectory = _home);
        builder.Services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory(platform));
        builder.Services.AddSingleton<IBoxStore>(store);

        // A record whose half-finished start recovery must clean: its starter is dead.
        var dead = new ProcessIdentity(Environment.ProcessId, -1, Posix.BootId);
        var halfStarted = new BoxInfo { Id = BoxId.New(), State = BoxState.Starting, Options = new BoxOptions { Command = "true" }, CreatedAt = DateTimeOffset.UtcNow, Holder = dead, Version = 1 };
        store.Put(halfStarted);

        using var host = builder.Build();
        await host.StartAsync(Token);
        (await store.GetAsync(halfStarted.Id, Token))!.State.Should().Be(BoxState.Failed);

        var runtime = host.Services.GetRequiredService<IBoxRuntime>();
        var box = await runtime.RunAsync(new BoxOptions { Command = "sleep", Args = ["100"] }, Token);
        await host.StopAsync(Token);

        (await store.GetAsync(box.Id, Token))!.State.Should().Be(BoxState.Exited);
        Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task The_console_builder_refuses_invalid_settings_before_touching_anything()
    {
        var act = () => new BoxliteRuntimeBuilder().Configure(o => o.HomeDirectory = "relative").AddPlatform(new FakePlatformFactory()).BuildAsync(Token);

        await act.Should().ThrowAsync<InvalidBoxOptionsException>();
        Directory.Exists("relative").Should().BeFalse();
    }

    [Fact]
    public void Diagnose_names_the_platform_and_reaper_without_touching_the_home()
    {
        var diagnosis = new BoxliteRuntimeBuilder().Configure(o => o.HomeDirectory = _home).AddPlatform(new FakePlatformFactory()).Diagnose();

        diagnosis.Platform.Should().Be("fake");
        diagnosis.Reaper.Should().Be("fake-group");
        diagnosis.IsCustomReaper.Should().BeFalse();
        Directory.Exists(_home).Should().BeFalse();
    }

    private ServiceCollection Services(FakePlatform platform)
    {
        var services = new ServiceCollection();
        services.AddBoxlite(o => o.HomeDirectory = _home);
        services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory(platform));
        services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        return services;
    }

    private static IConfigurationRoot Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
