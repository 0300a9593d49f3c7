using System.Diagnostics;
using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;

namespace Boxlite.Runtime.MacOS.Tests;

/// <summary>
/// The POSIX half for real, on Linux: the same keeper script and group sweep as on macOS, with a <c>/proc</c> process
/// table. Every group signalled here was created by the test (through the keeper or <c>setsid</c>).
/// </summary>
public sealed class RealProcessGroupTests : IDisposable
{
    private const string Tree = "sleep 1000 & (sleep 1000 &); sh -c 'sleep 1000 & sleep 1000 & wait' & wait";

    private readonly LinuxProcessTable _table = new();
    private readonly TestBox _box = new();
    private readonly List<Process> _started = [];
    private readonly List<ProcessIdentity> _groups = [];

    private ProcessGroupSweeper Sweeper => new(_table, TimeProvider.System);

    private static void RequireLinux() =>
        Assert.SkipUnless(LinuxProcessTable.IsAvailable && File.Exists(GroupKeeperScript.Perl), "needs Linux /proc and /usr/bin/perl");

    private Process StartKeeper(string registration, params string[] command)
    {
        var prefix = GroupKeeperScript.KeeperPrefix(registration);
        var keeper = Processes.Start(prefix[0], [.. prefix.Skip(1), .. command]);
        _started.Add(keeper);
        return keeper;
    }

    private async Task<ProcessIdentity> KeeperGroupAsync(Process keeper, string registration, int members)
    {
        (await Processes.Eventually(() => File.Exists(registration) && Sweeper.LiveMembers(keeper.Id).Count >= members))
            .Should().BeTrue("the keeper registers and its command builds its tree");
        var identity = new ProcessIdentity(keeper.Id, _table.Get(keeper.Id)!.StartTime, _table.BootId);
        _groups.Add(identity);
        return identity;
    }

    [Fact]
    public async Task The_reaper_kills_a_keepers_group_with_grandchildren_to_zero()
    {
        RequireLinux();
        var registration = GroupKeepers.BoxKeeperFile(_box.Context);
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(_box.Context));
        var keeper = StartKeeper(registration, "/bin/sh", "-c", Tree);
        var group = await KeeperGroupAsync(keeper, registration, members: 6);
        _table.Get(keeper.Id)!.GroupId.Should().NotBe(keeper.Id, "the keeper stepped out of the group it keeps");
        var reaper = new ProcessGroupReaper(Sweeper, new GroupKeepers(_table), TimeProvider.System);

        var report = await reaper.ReapAsync(_box.Context, TimeSpan.FromSeconds(20), CancellationToken.None);

        report.ProcessesKilled.Should().BeGreaterThanOrEqualTo(6);
        Sweeper.LiveMembers(group.Pid).Should().BeEmpty();
        (await Processes.ExitsAsync(keeper)).Should().BeTrue();
        keeper.ExitCode.Should().Be(128 + 9, "the command was SIGKILLed by the sweep");
    }

    [Fact]
    public async Task A_setsid_group_is_swept_to_zero_while_its_killed_leader_stays_unreaped()
    {
        RequireLinux();
        // The leader's parent is `sleep`, which never waits: a killed leader stays a zombie holding the group's number.
        var parent = Processes.Start("/bin/sh", ["-c", $"setsid /bin/sh -c \"{Tree}\" </dev/null >/dev/null 2>&1 & echo $!; exec sleep 1000"]);
        _started.Add(parent);
        var leaderPid = int.Parse((await parent.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken))!, System.Globalization.CultureInfo.InvariantCulture);
        (await Processes.Eventually(() => Sweeper.LiveMembers(leaderPid).Count >= 6)).Should().BeTrue();
        var leader = new ProcessIdentity(leaderPid, _table.Get(leaderPid)!.StartTime, _table.BootId);
        _table.Get(leaderPid)!.GroupId.Should().Be(leaderPid);

        var sweep = await Sweeper.SweepAsync(leader, TimeSpan.FromSeconds(20), CancellationToken.None);

        sweep.Survivors.Should().BeEmpty();
        sweep.Killed.Should().BeGreaterThanOrEqualTo(6);
        Sweeper.LiveMembers(leaderPid).Should().BeEmpty();
        _table.Get(leaderPid).Should().Match<ProcessEntry>(e => e.IsZombie && e.StartTime == leader.StartTime, "the leader is dead but not reaped");
    }

    [Fact]
    public async Task A_recycled_pid_is_not_signalled()
    {
        RequireLinux();
        var marks = Path.Combine(_box.Directory, "signals");
        var target = Processes.Start("/bin/sh", ["-c", $"trap 'echo USR1 >>{marks}' USR1; trap 'echo USR2 >>{marks}' USR2; echo ready; while :; do sleep 0.05; done"]);
        _started.Add(target);
        (await target.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken)).Should().Be("ready");
        var real = new ProcessIdentity(target.Id, _table.Get(target.Id)!.StartTime, _table.BootId);
        var recycled = real with { StartTime = real.StartTime - 1 };

        Sweeper.TrySignal(recycled, 10).Should().BeFalse();
        Sweeper.TrySignalGroup(recycled, 10).Should().BeFalse();
        // A later signal to the real identity arrives; had USR1 been sent first, it would be handled first.
        Sweeper.TrySignal(real, 12).Should().BeTrue();
        (await Processes.Eventually(() => File.Exists(marks) && File.ReadAllText(marks).Contains("USR2", StringComparison.Ordinal))).Should().BeTrue();

        File.ReadAllText(marks).Should().Be("USR2\n");
        target.HasExited.Should().BeFalse();
    }

    [Fact]
    public async Task A_keeper_sweeps_its_group_when_the_command_exits_and_reports_its_exit_code()
    {
        RequireLinux();
        var registration = GroupKeepers.BoxKeeperFile(_box.Context);
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(_box.Context));
        var keeper = StartKeeper(registration, "/bin/sh", "-c", "sleep 1000 & (sleep 1000 &); read _ ; exit 3");
        var group = await KeeperGroupAsync(keeper, registration, members: 3);

        keeper.StandardInput.WriteLine("go");
        keeper.StandardInput.Close();

        (await Processes.ExitsAsync(keeper)).Should().BeTrue();
        keeper.ExitCode.Should().Be(3);
        Sweeper.LiveMembers(group.Pid).Should().BeEmpty();
        File.Exists(registration).Should().BeFalse("the keeper withdraws its registration when its group is gone");
    }

    [Fact]
    public async Task A_keeper_told_to_stop_kills_its_whole_group()
    {
        RequireLinux();
        var registration = GroupKeepers.BoxKeeperFile(_box.Context);
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(_box.Context));
        var keeper = StartKeeper(registration, "/bin/sh", "-c", Tree);
        var group = await KeeperGroupAsync(keeper, registration, members: 6);

        Sweeper.TrySignal(group, 15).Should().BeTrue();

        (await Processes.ExitsAsync(keeper)).Should().BeTrue();
        keeper.ExitCode.Should().Be(128 + 9);
        Sweeper.LiveMembers(group.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task The_stop_signal_goes_to_the_command_not_to_the_keeper()
    {
        RequireLinux();
        var platform = new MacOSBoxPlatform(new BoxliteOptions { HomeDirectory = _box.Home }, new MacOSOptions(), _table,
            Isolation.FileSystemPathCanonicalizer.Instance);
        var registration = GroupKeepers.BoxKeeperFile(_box.Context);
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(_box.Context));
        var keeper = StartKeeper(registration, "/bin/sh", "-c", "trap 'exit 7' TERM; sleep 1000 & wait");
        var group = await KeeperGroupAsync(keeper, registration, members: 2);

        var delivered = await platform.SignalCommandAsync(_box.Context, "TERM", CancellationToken.None);

        delivered.Should().Be(1);
        (await Processes.ExitsAsync(keeper)).Should().BeTrue();
        keeper.ExitCode.Should().Be(7, "the command handled TERM; a keeper given TERM would have reported 137");
        Sweeper.LiveMembers(group.Pid).Should().BeEmpty();
    }

    public void Dispose()
    {
        // Only what this test created: groups whose keeper or leader still holds the number, then its own children.
        foreach (var group in _groups)
        {
            Sweeper.TrySignalGroup(group, SignalNumbers.Kill);
        }

        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }

            process.Dispose();
        }

        _box.Dispose();
    }
}
