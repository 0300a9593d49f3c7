using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>A box tries to steer the runtime's signals through what it can write; the runtime does not follow.</summary>
[Trait("Category", "AdversarialBox")]
public sealed class AdversarialBoxTests : IDisposable
{
    // The victim box's eighth sleep: its namespace pid is 10 (the command is 2, the sleeps 3 to 10).
    private const string Victim = "for i in 1 2 3 4 5 6 7 8; do sleep 1000 & done; touch ready; wait";
    private const int VictimNamespacePid = 10;

    private readonly CgroupSandbox _sandbox = new();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_box_cannot_make_stop_signal_another_box_process()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform(PidNamespaceInitReaper.MethodName);
        var attacker = await StartAttackerAsync(platform, "trap 'kill $!; exit 7' TERM");
        var victim = await StartVictimAsync(platform);
        var target = NamespacePeer(victim, VictimNamespacePid);

        var signalled = await platform.SignalCommandAsync(attacker, "TERM", CancellationToken.None);

        signalled.Should().Be(1);
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(attacker.ExitFile));
        (await File.ReadAllLinesAsync(attacker.ExitFile, Token))[0].Should().Be("7", "the attacker's own command got the signal");
        ProcessSignaller.IsAlive(target).Should().BeTrue("the other box's process was not the attacker's to signal");
        await platform.Reaper.ReapAsync(attacker, TimeSpan.FromSeconds(10), CancellationToken.None);
        await platform.Reaper.ReapAsync(victim, TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    [Fact]
    public async Task One_box_cannot_make_exec_enter_another_box_namespaces()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform(PidNamespaceInitReaper.MethodName);
        var attacker = await StartAttackerAsync(platform, ":");
        var victim = await StartVictimAsync(platform);

        var plan = await platform.PrepareExecAsync(attacker, CancellationToken.None);

        var entered = int.Parse(plan.CommandPrefix[plan.CommandPrefix.ToList().IndexOf("--target") + 1], CultureInfo.InvariantCulture);
        PidNamespaceOf(entered).Should().Be(PidNamespaceOf(NamespacePeer(attacker, 2).Pid))
            .And.NotBe(PidNamespaceOf(NamespacePeer(victim, 2).Pid));
        await platform.Reaper.ReapAsync(attacker, TimeSpan.FromSeconds(10), CancellationToken.None);
        await platform.Reaper.ReapAsync(victim, TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    [Fact]
    public async Task A_box_cannot_turn_its_stop_signal_onto_the_monitor_log_writers()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();
        var box = _sandbox.NewBox();

        // The command names a sibling (a log writer, child of the monitor like itself) as the monitor's child.
        box = await _sandbox.StartWithMonitorAsync(platform, box,
            "trap 'exit 7' TERM; for p in $(cat /proc/$PPID/task/$PPID/children); do [ \"$p\" = $$ ] || { " +
            $"echo $p > '{box.ChildPidFile}'; break; }}; done; touch ready; while :; do sleep 0.05; done");
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(Path.Combine(box.WorkDirectory, "ready")));

        var signalled = await platform.SignalCommandAsync(box, "TERM", CancellationToken.None);

        signalled.Should().Be(1);
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(box.ExitFile));
        (await File.ReadAllLinesAsync(box.ExitFile, Token))[0].Should().Be("7", "the command itself got the signal");
        await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    [Fact]
    public async Task An_unconfirmed_freeze_never_kills_a_pid_the_box_no_longer_holds()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && ProcessSignaller.HasPidfd, "needs Linux with pidfds");
        using var outsider = Process.Start("sleep", "1000");
        try
        {
            var fs = new FakeCgroupFileSystem(FakeCgroupFileSystem.PureV2) { V2Root = "/sys/fs/cgroup" };
            fs.AddCgroup("/sys/fs/cgroup", "cpu memory pids");
            var cgroups = new BoxCgroups(CgroupDiscovery.Discover(fs, "boxlite", isRoot: true), fs);
            var box = _sandbox.NewBox();
            cgroups.Create(box.Id, BoxLimits.None, BoxIsolation.None);

            // The box listed the pid (a process of its own that exited), the pid went to a process outside the box, and
            // the box cgroup never reports frozen (as with a process in uninterruptible sleep).
            var procs = cgroups.Of(box.Id).CommandDirectory + "/cgroup.procs";
            fs.ReadsFirst[procs] = new Queue<string>([$"{outsider.Id}\n", $"{outsider.Id}\n"]);

            var report = await new CgroupFreezeKillReaper(cgroups, TimeProvider.System).ReapAsync(box, TimeSpan.FromSeconds(10), CancellationToken.None);

            report.ContainmentRemoved.Should().BeTrue();
            outsider.HasExited.Should().BeFalse();
        }
        finally
        {
            outsider.Kill();
            await outsider.WaitForExitAsync(Token);
        }
    }

    /// <summary>A namespaced box whose command claims <see cref="VictimNamespacePid"/> as its namespace pid.</summary>
    private async Task<Platform.BoxContext> StartAttackerAsync(LinuxBoxPlatform platform, string trap)
    {
        var box = _sandbox.NewBox(BoxIsolation.PidNamespace);
        box = await _sandbox.StartWithMonitorAsync(platform, box,
            $"{trap}; echo {VictimNamespacePid} > '{box.ChildPidFile}'; touch ready; sleep 1000 & wait");
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(Path.Combine(box.WorkDirectory, "ready")));
        return box;
    }

    private async Task<Platform.BoxContext> StartVictimAsync(LinuxBoxPlatform platform)
    {
        var box = await _sandbox.StartWithMonitorAsync(platform, _sandbox.NewBox(BoxIsolation.PidNamespace), Victim);
        await CgroupSandbox.WaitUntilAsync(() => File.Exists(Path.Combine(box.WorkDirectory, "ready")));
        return box;
    }

    /// <summary>The process of <paramref name="box"/>'s PID namespace whose pid there is <paramref name="namespacePid"/>.</summary>
    private static ProcessIdentity NamespacePeer(Platform.BoxContext box, int namespacePid)
    {
        // The monitor's one child is the launcher (unshare), whose one child is the namespace's init.
        var launcher = ProcFs.ReadChildren(box.Info.Monitor!.Pid).Single();
        var init = ProcFs.ReadChildren(launcher).Single();
        var ns = PidNamespaceOf(init);
        var pid = ProcFs.ListPids().Single(p => PidNamespaceOf(p) == ns && ProcFs.ReadNamespacePids(p) is { } n && n[^1] == namespacePid);
        return ProcessSignaller.TryGetIdentity(pid)!;
    }

    private static string? PidNamespaceOf(int pid) => BoxProcesses.TryReadLink($"/proc/{pid}/ns/pid");

    public void Dispose() => _sandbox.Dispose();
}
