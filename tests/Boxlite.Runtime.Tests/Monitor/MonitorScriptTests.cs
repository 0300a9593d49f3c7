using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Tests;

/// <summary>The portable <c>sh</c> monitor (macOS's), with its Perl logger, tried here through the same sh and perl.</summary>
public sealed class MonitorScriptTests : MonitorContract
{
    private protected override BoxLaunchPlan Plan { get; } = new();

    [Fact]
    public async Task When_the_host_end_closes_the_command_is_killed_and_host_gone_is_the_reason()
    {
        // The kill path here is the group keeper's (a pid told to stop); the command plays the keeper itself.
        var box = NewBox(Sh("echo $$ > keeper.tmp && mv keeper.tmp keeper; exec sleep 1000"), detached: false);
        var keeper = Path.Combine(box.WorkDirectory, "keeper");
        var monitor = await StartAsync(box, new BoxLaunchPlan { Containment = new BoxContainment { Kill = new CommandKill.KeeperKill(keeper) } });
        monitor.Go(detached: false);
        (await EventuallyAsync(() => File.Exists(keeper))).Should().BeTrue();

        monitor.Dispose();

        (await EventuallyAsync(() => ExitStatus.TryRead(box) is not null)).Should().BeTrue();
        Read(box, "exit").Should().Be("143\nhost-gone\n", "the command died of the SIGTERM its keeper got");
    }
}
