using System.Diagnostics;
using Boxlite.Runtime.MacOS.Isolation;
using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;

namespace Boxlite.Runtime.MacOS.Tests;

/// <summary>The box monitor run with this platform's launch plan (no seatbelt on Linux): session, keeper, group, exit.</summary>
public sealed class MonitorLaunchTests : IDisposable
{
    private readonly LinuxProcessTable _table = new();
    private readonly TestBox _box = new(new BoxOptions { Command = "/bin/sh", Args = ["-c", "sleep 1000 & (sleep 1000 &); echo hello; exit 4"] });
    private Process? _monitor;

    [Fact]
    public async Task A_box_launched_with_the_plan_reports_its_exit_and_leaves_no_process_of_its_group()
    {
        Assert.SkipUnless(LinuxProcessTable.IsAvailable && File.Exists(GroupKeeperScript.Perl), "needs Linux /proc and /usr/bin/perl");
        var cancel = TestContext.Current.CancellationToken;
        var platform = new MacOSBoxPlatform(new BoxliteOptions { HomeDirectory = _box.Home }, new MacOSOptions(), _table, FileSystemPathCanonicalizer.Instance);
        var plan = await platform.PrepareAsync(_box.Context, cancel);
        using var script = new StreamReader(typeof(BoxId).Assembly.GetManifestResourceStream("box-monitor.sh")!);
        var options = _box.Context.Info.Options;
        string[] argv = [.. plan.SessionPrefix, "/bin/sh", "-c", await script.ReadToEndAsync(cancel), "boxlite-monitor", .. plan.CommandPrefix, options.Command, .. options.Args];
        _monitor = Processes.Start(argv[0], argv.Skip(1), new Dictionary<string, string> { ["BOXLITE_DIR"] = _box.Directory });

        var joined = await _monitor.StandardOutput.ReadLineAsync(cancel);
        joined.Should().Be($"joined {_monitor.Id}", "the session prefix execs the monitor in place");
        await platform.VerifyContainedAsync(_box.Context, _monitor.Id, cancel);
        await _monitor.StandardInput.WriteLineAsync("go".AsMemory(), cancel);
        await _monitor.StandardInput.FlushAsync(cancel);

        (await Processes.ExitsAsync(_monitor)).Should().BeTrue();
        (await File.ReadAllTextAsync(_box.Context.ExitFile, cancel)).Should().Be("4\n\n");
        (await File.ReadAllTextAsync(Path.Combine(_box.Directory, "stdout.log"), cancel)).Should().Be("hello\n");
        var keeper = int.Parse(await File.ReadAllTextAsync(_box.Context.ChildPidFile, cancel), System.Globalization.CultureInfo.InvariantCulture);
        new ProcessGroupSweeper(_table, TimeProvider.System).LiveMembers(keeper).Should().BeEmpty();
        File.Exists(GroupKeepers.BoxKeeperFile(_box.Context)).Should().BeFalse();
        (await platform.Reaper.ReapAsync(_box.Context, TimeSpan.FromSeconds(5), cancel)).ProcessesKilled.Should().Be(0);
    }

    public void Dispose()
    {
        if (_monitor is { HasExited: false })
        {
            _monitor.Kill();
            _monitor.WaitForExit();
        }

        _monitor?.Dispose();
        _box.Dispose();
    }
}
