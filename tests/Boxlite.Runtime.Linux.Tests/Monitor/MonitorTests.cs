using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Linux.Tests.Lifecycle;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>The box monitor on the real platform: what it leaves behind when the command is done.</summary>
public sealed class MonitorTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly CgroupSandbox _sandbox = new();

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task A_clean_attached_exit_leaves_the_reaper_nothing_to_kill()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();

        // Attached: the host keeps its end of the monitor's pipe open throughout.
        var box = await _sandbox.StartWithMonitorAsync(platform, _sandbox.NewBox(detached: false), "echo done");
        (await LinuxHome.EventuallyAsync(() => !platform.IsAlive(box.Info.Monitor!), Generous)).Should().BeTrue();

        var report = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);

        report.ProcessesKilled.Should().Be(0, "the watcher of the host pipe ends with the monitor");
    }

    [Fact]
    public async Task Without_cgroup_kill_the_monitor_kills_what_the_command_left_through_a_confirmed_freeze()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform(CgroupFreezeKillReaper.MethodName);

        var box = await _sandbox.StartWithMonitorAsync(platform, _sandbox.NewBox(), "sleep 1000 & sleep 1000 & (sleep 1000 &); echo started");
        (await LinuxHome.EventuallyAsync(() => !platform.IsAlive(box.Info.Monitor!), Generous)).Should().BeTrue();

        _sandbox.MarkedProcesses().Should().BeEmpty();
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None)).ProcessesKilled.Should().Be(0);
        File.ReadAllText(box.ExitFile).Should().Be("0\n\n");
    }

    public void Dispose() => _sandbox.Dispose();
}
