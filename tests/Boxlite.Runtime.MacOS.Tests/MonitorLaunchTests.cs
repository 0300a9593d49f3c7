using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.MacOS.Isolation;
using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;

namespace Boxlite.Runtime.MacOS.Tests;

/// <summary>The box monitor run with this platform's launch plan (no seatbelt on Linux): session, keeper, group, exit.</summary>
public sealed class MonitorLaunchTests : IDisposable
{
    private readonly LinuxProcessTable _table = new();
    private readonly TestBox _box = new(new BoxOptions { Command = "/bin/sh", Args = ["-c", "sleep 1000 & (sleep 1000 &); echo hello; exit 4"], Detached = true });
    private MonitorProcess? _monitor;

    [Fact]
    public async Task A_box_launched_with_the_plan_reports_its_exit_and_leaves_no_process_of_its_group()
    {
        Assert.SkipUnless(LinuxProcessTable.IsAvailable && File.Exists(GroupKeeperScript.Perl), "needs Linux /proc and /usr/bin/perl");
        var cancel = TestContext.Current.CancellationToken;
        var platform = new MacOSBoxPlatform(new BoxliteOptions { HomeDirectory = _box.Home }, new MacOSOptions(), _table, FileSystemPathCanonicalizer.Instance);
        var plan = await platform.PrepareAsync(_box.Context, cancel);
        _monitor = await MonitorProcess.StartAsync(_box.Context, plan, 1 << 20, TimeSpan.FromSeconds(30), cancel);
        await platform.VerifyContainedAsync(_box.Context, _monitor.Pid, cancel);
        _monitor.Go(detached: true);

        await _monitor.Exited.WaitAsync(TimeSpan.FromSeconds(30), cancel);
        (await File.ReadAllTextAsync(_box.Context.ExitFile, cancel)).Should().Be("4\n\n");
        (await File.ReadAllTextAsync(_box.Context.LogFile, cancel)).Should().Be("o6\nhello\n");
        var keeper = int.Parse(await File.ReadAllTextAsync(_box.Context.ChildPidFile, cancel), System.Globalization.CultureInfo.InvariantCulture);
        new ProcessGroupSweeper(_table, TimeProvider.System).LiveMembers(keeper).Should().BeEmpty();
        File.Exists(GroupKeepers.BoxKeeperFile(_box.Context)).Should().BeFalse();
        (await platform.Reaper.ReapAsync(_box.Context, TimeSpan.FromSeconds(5), cancel)).ProcessesKilled.Should().Be(0);
    }

    public void Dispose()
    {
        _monitor?.Dispose();
        _box.Dispose();
    }
}
