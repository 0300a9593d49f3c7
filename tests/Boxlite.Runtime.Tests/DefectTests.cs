using Boxlite.Runtime.Platform;
using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Boxlite.Runtime.Tests;

/// <summary>Defects a real client met: each is a behaviour the lifecycle now guarantees.</summary>
public sealed class DefectTests
{
    private static CancellationToken Deadline => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Waiting_on_an_auto_remove_box_returns_its_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 3") with { AutoRemove = true }, Deadline);

        (await box.WaitAsync(Deadline)).Should().Be(3);

        (await f.Store.GetAsync(box.Id, Deadline)).Should().BeNull();
    }

    [Fact]
    public async Task Host_shutdown_with_a_long_request_stops_attached_boxes_at_once_and_never_crashes()
    {
        var platform = new FakePlatform();
        var home = Path.Combine(Path.GetTempPath(), "boxlite-test-" + Guid.NewGuid().ToString("N")[..12]);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.Services.AddBoxlite(o => o.HomeDirectory = home);
        builder.Services.AddSingleton<BoxPlatformFactory>(new FakePlatformFactory(platform));

        // Registered after Boxlite, so the host stops it first, as a web server draining its requests.
        var request = new LongRequest();
        builder.Services.AddHostedService(_ => request);
        try
        {
            using var host = builder.Build();
            await host.StartAsync(Deadline);
            var runtime = host.Services.GetRequiredService<IBoxRuntime>();
            var box = await runtime.RunAsync(RuntimeFixture.Sh("trap '' TERM; echo ready; while :; do sleep 0.05; done", detached: false), Deadline);
            await BoxWaits.ForLogLineAsync(box, "ready");
            request.Box = box;

            var act = () => host.StopAsync(Deadline);

            await act.Should().NotThrowAsync();
            request.SawTheBoxEndBeforeTheShutdownTimeout.Should().BeTrue("attached boxes get their stop signal when shutdown begins");
            (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Exited);
            Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
        }
        finally
        {
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Prune_removes_the_records_left_by_a_host_that_was_killed()
    {
        await using var f = new RuntimeFixture();
        var dead = new ProcessIdentity(Environment.ProcessId, -1, Posix.BootId);

        // An attached box whose host was SIGKILLed: its monitor reaped it and recorded why, then nobody looked again.
        var left = new BoxInfo
        {
            Id = BoxId.New(),
            State = BoxState.Running,
            Options = RuntimeFixture.Sh("sleep 100", detached: false),
            CreatedAt = DateTimeOffset.UtcNow,
            Monitor = dead,
            Owner = dead,
            Version = 1,
        };
        f.Store.Put(left);
        Directory.CreateDirectory(f.DirectoryOf(left.Id));
        await File.WriteAllTextAsync(Path.Combine(f.DirectoryOf(left.Id), "exit"), "137\nhost-gone\n", Deadline);
        var live = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var report = await f.Runtime.PruneAsync(cancellationToken: Deadline);

        report.Removed.Should().Equal(left.Id);
        (await f.Store.ListAsync(Deadline)).Select(b => b.Id).Should().Equal(live.Id);
        Directory.Exists(f.DirectoryOf(left.Id)).Should().BeFalse();
    }

    /// <summary>A request that runs as long as its box: the host waits for it while it shuts down.</summary>
    private sealed class LongRequest : IHostedService
    {
        public IBox? Box { get; set; }

        public bool SawTheBoxEndBeforeTheShutdownTimeout { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Box!.WaitAsync(cancellationToken);
                SawTheBoxEndBeforeTheShutdownTimeout = true;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
