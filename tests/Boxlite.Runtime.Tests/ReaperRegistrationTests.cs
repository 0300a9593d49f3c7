using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Boxlite.Runtime.Tests;

/// <summary>
/// A host's own reapers, registered through the container or the console builder, and how the platform picks one. The
/// fake platform's own reaper guarantees <see cref="ReapGuarantee.ProcessGroup"/>.
/// </summary>
public sealed class ReaperRegistrationTests : IDisposable
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
    public void Registering_a_reaper_type_twice_registers_it_once()
    {
        var services = new ServiceCollection();

        services.AddBoxlite().AddTreeReaper<WholeTreeReaper>().AddTreeReaper<WholeTreeReaper>().AddTreeReaper(_ => new WholeTreeReaper());

        services.Should().ContainSingle(d => d.ServiceType == typeof(ITreeReaper));
    }

    [Fact]
    public async Task A_registered_reaper_is_used_when_it_guarantees_as_much_as_the_best_built_in_one()
    {
        await using var provider = Provider(b => b.AddTreeReaper<WholeTreeReaper>());

        provider.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be(WholeTreeReaper.MethodName);
    }

    [Fact]
    public async Task A_registered_reaper_that_guarantees_less_is_used_only_when_named()
    {
        var weak = new StubReaper("weak", ReapGuarantee.SingleProcess);
        await using var byDefault = Provider(b => b.AddTreeReaper(_ => weak));
        await using var byName = Provider(b => b.AddTreeReaper(_ => weak), reaper: "weak");

        byDefault.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be("fake-group");
        byName.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be("weak");
    }

    [Fact]
    public async Task Among_registered_reapers_of_one_guarantee_the_first_registered_wins_and_an_unsupported_one_is_passed_over()
    {
        await using var provider = Provider(b => b.AddTreeReaper<UnsupportedReaper>().AddTreeReaper<FirstReaper>().AddTreeReaper<WholeTreeReaper>());

        provider.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be("first");
    }

    [Fact]
    public async Task A_factory_registered_reaper_is_made_once_by_the_container_with_its_services()
    {
        var made = 0;
        await using var provider = Provider(b => b.AddTreeReaper(sp =>
        {
            made++;
            return new StubReaper(sp.GetRequiredService<IBoxStore>().Location, ReapGuarantee.WholeTree);
        }));

        provider.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be("memory");
        provider.GetServices<ITreeReaper>().Should().ContainSingle();
        made.Should().Be(1);
    }

    [Fact]
    public async Task A_factory_typed_only_as_the_contract_registers_each_reaper_it_is_given()
    {
        await using var provider = Provider(b => b
            .AddTreeReaper<ITreeReaper>(_ => new StubReaper("weak", ReapGuarantee.SingleProcess))
            .AddTreeReaper<ITreeReaper>(_ => new StubReaper("strong", ReapGuarantee.WholeTree)));

        provider.GetServices<ITreeReaper>().Select(r => r.Name).Should().Equal("weak", "strong");
        provider.GetRequiredService<IBoxRuntime>().ReaperName.Should().Be("strong");
    }

    [Fact]
    public async Task A_reaper_named_like_another_is_refused_when_the_runtime_is_made()
    {
        await using var provider = Provider(b => b.AddTreeReaper(_ => new StubReaper("fake-group", ReapGuarantee.WholeTree)));

        var act = () => provider.GetRequiredService<IBoxRuntime>();

        act.Should().Throw<PlatformCapabilityException>().WithMessage("*two reapers are named 'fake-group'*");
    }

    [Fact]
    public async Task An_unknown_reaper_name_is_refused_naming_the_registered_and_built_in_ones()
    {
        await using var provider = Provider(b => b.AddTreeReaper<WholeTreeReaper>(), reaper: "nope");

        var act = () => provider.GetRequiredService<IBoxRuntime>();

        act.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain(WholeTreeReaper.MethodName).And.Contain("fake-group");
    }

    [Fact]
    public void The_console_builder_takes_a_reaper_and_picks_it_as_the_container_does()
    {
        var reaper = new WholeTreeReaper();

        var diagnosis = new BoxliteRuntimeBuilder().Configure(o => o.HomeDirectory = _home)
            .AddPlatform(new FakePlatformFactory()).AddTreeReaper(reaper).AddTreeReaper(reaper).Diagnose();

        diagnosis.Reaper.Should().Be(WholeTreeReaper.MethodName);
        diagnosis.Guarantee.Should().Be(ReapGuarantee.WholeTree);
        diagnosis.IsCustomReaper.Should().BeTrue();
    }

    [Fact]
    public async Task The_health_check_names_a_custom_reaper_and_its_guarantee()
    {
        await using var provider = Provider(b => b.AddTreeReaper<WholeTreeReaper>());
        var check = provider.GetRequiredService<BoxliteHealthCheck>();

        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        result.Status.Should().Be(HealthStatus.Healthy);
        result.Description.Should().Be($"reaper {WholeTreeReaper.MethodName} (WholeTree, custom)");
        result.Data["reaperOrigin"].Should().Be("custom");
    }

    [Fact]
    public async Task The_health_check_calls_a_built_in_reaper_built_in()
    {
        await using var provider = Provider(_ => { });
        var check = ActivatorUtilities.GetServiceOrCreateInstance<BoxliteHealthCheck>(provider);

        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        result.Status.Should().Be(HealthStatus.Degraded);
        result.Description.Should().StartWith("reaper fake-group (ProcessGroup, built-in)");
    }

    private ServiceProvider Provider(Action<IBoxliteBuilder> register, string? reaper = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory());
        services.AddSingleton<IBoxStore>(new InMemoryBoxStore());
        register(services.AddBoxlite(o =>
        {
            o.HomeDirectory = _home;
            o.Reaper = reaper;
        }));
        return services.BuildServiceProvider();
    }

    private sealed class WholeTreeReaper() : StubReaper(MethodName, ReapGuarantee.WholeTree)
    {
        public const string MethodName = "whole-tree-stub";
    }

    private sealed class UnsupportedReaper() : StubReaper("unsupported", ReapGuarantee.WholeTree, supported: false);

    private sealed class FirstReaper() : StubReaper("first", ReapGuarantee.WholeTree);
}

/// <summary>A reaper that only says what it is; it contains and reaps nothing.</summary>
internal class StubReaper(string name, ReapGuarantee guarantee, bool supported = true) : ITreeReaper
{
    public string Name => name;

    public ReapGuarantee Guarantee => guarantee;

    public ReaperSupport Support => new(supported, supported ? "stub" : "never here");

    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken) => ValueTask.FromResult(new BoxLaunchPlan());

    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>([]);

    public ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReapReport.Nothing(name, guarantee));
}
