using Boxlite.CustomReaper;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Linux.Tests.Lifecycle;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Boxlite.Runtime.Linux.Tests.CustomReaper;

/// <summary>
/// The sample's custom reaper (the cgroup v1 freezer), registered through the container as a host registers it: real
/// boxes whose adversarial trees it reaps to zero, and the reports that name it.
/// </summary>
[Trait("Category", "CustomReaper")]
public sealed class FreezerReaperTests : IAsyncDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string?> Missing = new(() =>
        !LinuxHome.CanRunBoxes ? LinuxHome.SkipReason
        : new FreezerReaper().Support is { IsSupported: false } support ? "the freezer reaper is not usable here: " + support.Reason
        : null);

    private readonly string _tag = Guid.NewGuid().ToString("N")[..12];
    private readonly string _home;
    private readonly ServiceProvider _provider;

    public FreezerReaperTests()
    {
        _home = Path.Combine(Path.GetTempPath(), "boxlite-test-" + _tag);
        var services = new ServiceCollection();
        services.AddBoxlite(o =>
            {
                o.HomeDirectory = _home;
                o.RecoverOnStart = false;
                o.DefaultStopTimeout = TimeSpan.FromSeconds(5);
                o.Reaper = null; // the platform's pick, whatever $BOXLITE_REAPER forces
            })
            .AddLinux(o => o.CgroupParent = "boxlite-test-" + _tag)
            .AddFreezerReaper(FreezerParent);
        _provider = services.BuildServiceProvider();
    }

    public static TheoryData<string> Trees() =>
        ["double-fork daemons", "setsid escapees", "PID namespace in a PID namespace", "SIGSTOPped processes", "zombies never waited for", "50-deep chain"];

    private string FreezerParent => "boxlite-freezer-test-" + _tag;

    private string Marker { get; } = "m" + Guid.NewGuid().ToString("N");

    private IBoxRuntime Runtime => _provider.GetRequiredService<IBoxRuntime>();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task The_registered_freezer_reaper_reaps_an_adversarial_tree_to_zero(string tree)
    {
        Assert.SkipWhen(Missing.Value is not null, Missing.Value ?? "");
        var (script, expected, _) = AdversarialTrees.Reaping[tree];
        var box = await Runtime.RunAsync(Sh(script), Token);
        (await LinuxHome.EventuallyAsync(() => LinuxHome.Marked(Marker).Count >= expected, Generous)).Should().BeTrue($"the tree of {expected} is built");

        var report = await Runtime.RemoveAsync(box.Id.Value, force: true, Token).WaitAsync(Generous, Token);

        report!.Method.Should().Be(FreezerReaper.MethodName);
        report.ProcessesKilled.Should().BeGreaterThanOrEqualTo(expected);
        report.ContainmentRemoved.Should().BeTrue();
        LinuxHome.Marked(Marker).Should().BeEmpty();
        Directory.Exists(Path.Combine(FreezerReaper.DefaultMount, FreezerParent, box.Id.Value)).Should().BeFalse();
    }

    [Fact]
    public async Task Stopping_a_box_of_the_freezer_reaper_takes_its_daemons_and_records_the_exit()
    {
        Assert.SkipWhen(Missing.Value is not null, Missing.Value ?? "");
        var box = await Runtime.RunAsync(Sh("for i in 1 2 3; do (setsid sh -c 'sleep 1000 &' &); done; exec sleep 1000"), Token);
        (await LinuxHome.EventuallyAsync(() => LinuxHome.Marked(Marker).Count >= 4, Generous)).Should().BeTrue();

        var report = await box.StopAsync(TimeSpan.FromSeconds(1), Token).WaitAsync(Generous, Token);

        report.Method.Should().Be(FreezerReaper.MethodName);
        LinuxHome.Marked(Marker).Should().BeEmpty();
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Exited);
    }

    [Fact]
    public async Task A_command_exec_d_into_the_box_joins_the_freezer_cgroup_of_the_box()
    {
        Assert.SkipWhen(Missing.Value is not null, Missing.Value ?? "");
        var box = await Runtime.RunAsync(Sh("exec sleep 1000"), Token);

        var result = await box.ExecAsync("/bin/cat", ["/proc/self/cgroup"], Token).WaitAsync(Generous, Token);

        result.StandardOutput.Should().Contain($":freezer:/{FreezerParent}/{box.Id.Value}\n");
    }

    [Fact]
    public async Task The_health_check_and_the_diagnosis_doctor_prints_name_the_freezer_reaper_as_custom()
    {
        Assert.SkipWhen(Missing.Value is not null, Missing.Value ?? "");
        var health = await _provider.GetRequiredService<BoxliteHealthCheck>().CheckHealthAsync(new HealthCheckContext(), Token);
        var diagnosis = Builder().AddTreeReaper(new FreezerReaper(FreezerParent)).Diagnose();

        Runtime.ReaperName.Should().Be(FreezerReaper.MethodName);
        health.Status.Should().Be(HealthStatus.Healthy);
        health.Description.Should().Be($"reaper {FreezerReaper.MethodName} (WholeTree, custom)");
        diagnosis.Reaper.Should().Be(FreezerReaper.MethodName);
        diagnosis.IsCustomReaper.Should().BeTrue();
        diagnosis.Checks.Should().Contain(c => c.Name == "active reaper" && c.Detail.StartsWith($"{FreezerReaper.MethodName} (WholeTree, custom)", StringComparison.Ordinal))
            .And.Contain(c => c.Name == $"reaper {FreezerReaper.MethodName}" && c.Ok);
    }

    [Fact]
    public void Without_a_freezer_hierarchy_the_reaper_says_why_and_a_built_in_one_is_used()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "Linux only");
        var absent = new FreezerReaper(mount: "/nonexistent/freezer");

        var diagnosis = Builder().AddTreeReaper(absent).Diagnose();

        absent.Support.IsSupported.Should().BeFalse();
        absent.Support.Reason.Should().Contain("/nonexistent/freezer");
        diagnosis.IsCustomReaper.Should().BeFalse();
        diagnosis.Reaper.Should().BeOneOf(CgroupKillReaper.MethodName, CgroupFreezeKillReaper.MethodName, PidNamespaceInitReaper.MethodName, SinglePidReaper.MethodName);
        diagnosis.Checks.Should().Contain(c => c.Name == $"reaper {FreezerReaper.MethodName}" && !c.Ok);
    }

    [Fact]
    public void A_parent_outside_the_hierarchy_is_refused()
    {
        var act = () => new FreezerReaper("../escape");

        act.Should().Throw<ArgumentException>().WithParameterName("parent");
    }

    public async ValueTask DisposeAsync()
    {
        // The runtime exists (and made the home) only if a test asked for it.
        if (Directory.Exists(_home) && _provider.GetService<BoxRuntime>() is { } runtime)
        {
            foreach (var box in await runtime.Store.ListAsync())
            {
                try
                {
                    await runtime.RemoveAsync(box.Id.Value, force: true);
                }
                catch (BoxliteException)
                {
                }
            }
        }

        await _provider.DisposeAsync();
        var parent = Path.Combine(FreezerReaper.DefaultMount, FreezerParent);
        if (Directory.Exists(parent))
        {
            Directory.Delete(parent);
        }

        if (Directory.Exists(_home))
        {
            Directory.Delete(_home, recursive: true);
        }
    }

    private BoxliteRuntimeBuilder Builder() => new BoxliteRuntimeBuilder().Configure(o =>
    {
        o.HomeDirectory = _home;
        o.Reaper = null;
    }).AddLinux();

    private BoxOptions Sh(string script) => new()
    {
        Command = "/bin/sh",
        Args = ["-c", script],
        Detached = true,
        Environment = new Dictionary<string, string> { ["BOX_MARKER"] = Marker },
    };
}
