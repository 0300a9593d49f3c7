using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Monitor;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>Linux's compiled monitor (<c>boxlite-monitor</c>), installed as the platform installs it, held to the monitor contract.</summary>
public sealed class CompiledMonitorTests : MonitorContract
{
    private const string Qemu = "/usr/bin/qemu-aarch64-static";

    private const string Perl = "/usr/bin/perl";

    // A spawner that leaves SIGCHLD, SIGTERM, SIGINT and SIGPIPE ignored and blocked: both survive exec.
    private static readonly string[] CarelessSpawner =
    [
        Perl, "-MPOSIX", "-e",
        "$SIG{$_} = 'IGNORE' for qw(CHLD TERM INT PIPE); sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGCHLD, SIGTERM, SIGINT, SIGPIPE)) or die; " +
        "exec { $ARGV[0] } @ARGV or die \"exec: $!\"",
    ];

    public CompiledMonitorTests() => Plan = new BoxLaunchPlan { MonitorProgram = MonitorBinary.Install(Home) };

    private protected override BoxLaunchPlan Plan { get; }

    [Fact]
    public async Task The_command_reads_the_stdin_it_is_given_then_end_of_file()
    {
        var box = NewBox(Sh("cat; echo end"));
        using var input = new MemoryStream(Encoding.UTF8.GetBytes("one\ntwo\n"));
        using var monitor = await MonitorProcess.StartAsync(box, Plan, 1 << 20, Generous, BoxInput.FromStream(input), Token);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        (await LogOfAsync(box)).Select(l => l.Text).Should().Equal("one", "two", "end");
    }

    [Fact]
    public async Task An_exec_reads_the_stdin_it_is_given_then_end_of_file()
    {
        var box = NewBox(Sh("true"));
        using var input = new MemoryStream(Encoding.UTF8.GetBytes("one\ntwo\n"));
        using var exec = BoxExec.Start(box, Plan, "/bin/sh", ["-c", "cat; echo end; exit 3"], redirectInput: true);

        await BoxInput.FromStream(input).FeedAsync(exec.Input!, Token);
        var lines = await BoxExec.ReadLines(exec, Token).Lines.ReadAllAsync(Token).ToListAsync(Token);

        (await exec.Exited.WaitAsync(Generous, Token)).Should().Be(3);
        lines.Select(l => l.Text).Should().Equal("one", "two", "end");
    }

    [Fact]
    public async Task A_command_that_cannot_be_run_exits_127_with_the_reason_in_its_log()
    {
        var box = NewBox(new BoxOptions { Command = "no-such-command-here", Detached = true });
        var monitor = await StartAsync(box);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("127\n\n");
        (await LogOfAsync(box)).Should().ContainSingle(l => l.Source == BoxLogSource.StandardError && l.Text.Contains("no-such-command-here", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_command_leads_a_process_group_of_its_own_so_a_group_signal_of_the_box_spares_the_monitor()
    {
        var box = NewBox(Sh("kill -TERM 0"));
        var monitor = await StartAsync(box);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("143\n\n", "the monitor outlived its command's group signal and recorded it");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task When_the_host_end_closes_the_command_tree_is_killed_by_its_cgroup_and_host_gone_is_the_reason()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        using var sandbox = new CgroupSandbox();
        var platform = sandbox.Platform();
        var box = sandbox.NewBox(detached: false);
        box = box with { Info = box.Info with { Options = box.Info.Options with { Args = ["-c", "sleep 1000 & (sleep 1000 &); touch ready; wait"] } } };
        var monitor = await StartAsync(box, await platform.PrepareAsync(box, Token));
        await platform.VerifyContainedAsync(box, monitor.Pid, Token);
        monitor.Go(detached: false);
        (await EventuallyAsync(() => File.Exists(Path.Combine(box.WorkDirectory, "ready")))).Should().BeTrue();

        monitor.Dispose();

        (await EventuallyAsync(() => ExitStatus.TryRead(box) is not null)).Should().BeTrue();
        Read(box, "exit").Should().Be("137\nhost-gone\n");
        var reap = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(10), Token);
        reap.ProcessesKilled.Should().Be(0, "the monitor killed the whole tree itself");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task Without_cgroup_kill_daemons_moved_into_cgroups_below_the_commands_own_die_at_its_exit_with_no_runtime_around()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        using var sandbox = new CgroupSandbox();

        var box = await RunDaemonsBelowAsync(sandbox, sandbox.Platform(CgroupFreezeKillReaper.MethodName), "a", "a/b");

        Read(box, "exit").Should().Be("0\n\n");
        (await sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(10))).Should().BeEmpty("the monitor's kill covers the command's whole cgroup subtree");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task A_cgroup_tree_deeper_than_the_monitors_kill_looks_still_lets_it_record_the_exit_and_the_reap_takes_the_rest()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        using var sandbox = new CgroupSandbox();
        var platform = sandbox.Platform(CgroupFreezeKillReaper.MethodName);

        var box = await RunDaemonsBelowAsync(sandbox, platform, string.Join('/', Enumerable.Repeat("d", 40)));
        var reap = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(20), Token);

        Read(box, "exit").Should().Be("0\n\n");
        reap.ProcessesKilled.Should().Be(1, "the monitor's kill stops at its depth; the reap goes all the way down");
        (await sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(10))).Should().BeEmpty();
    }

    [Fact]
    public async Task A_monitor_spawned_with_SIGCHLD_ignored_still_notices_its_commands_exit()
    {
        Assert.SkipUnless(File.Exists(Perl), $"needs {Perl}");
        var box = NewBox(Sh("exit 3"));

        var (_, code) = await RunAsync([.. CarelessSpawner, Plan.MonitorProgram!, "monitor", "0", "/bin/sh", "-c", "exit 3"], MonitorSettings(box), "go\n");

        code.Should().Be(0);
        Read(box, "exit").Should().Be("3\n\n");
    }

    [Fact]
    public async Task The_command_starts_with_no_signal_ignored_or_blocked_whatever_its_monitor_inherited()
    {
        Assert.SkipUnless(File.Exists(Perl), $"needs {Perl}");
        var box = NewBox(Sh("true"));

        await RunAsync([.. CarelessSpawner, Plan.MonitorProgram!, "monitor", "0", "/bin/grep", "^Sig[IB]", "/proc/self/status"], MonitorSettings(box), "go\n");

        Read(box, "exit").Should().Be("0\n\n");
        (await LogOfAsync(box)).Select(l => l.Text).Should().Equal("SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000");
    }

    [Fact]
    public async Task An_exec_starts_with_no_signal_ignored_or_blocked_whatever_its_launcher_inherited()
    {
        Assert.SkipUnless(File.Exists(Perl), $"needs {Perl}");

        var (output, code) = await RunAsync([.. CarelessSpawner, Plan.MonitorProgram!, "exec", "0", "/bin/grep", "^Sig[IB]", "/proc/self/status"],
            new() { ["BOXLITE_APPLY_ENV"] = "1" }, "");

        (output, code).Should().Be(("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n", 0));
    }

    [Fact]
    public async Task The_arm64_build_runs_a_box_and_an_exec_under_qemu()
    {
        Assert.SkipUnless(File.Exists(Qemu), $"needs {Qemu} (apt-get install qemu-user-static) to run the arm64 build here");
        var binary = Path.Combine(Home, "boxlite-monitor-aarch64");
        await File.WriteAllBytesAsync(binary, MonitorBinary.For(Architecture.Arm64)!, Token);
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(binary, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var box = NewBox(Sh("echo hi; echo oops >&2; exit 5"));

        var (monitorOutput, monitorCode) = await RunAsync([Qemu, binary, "monitor", "1", "PATH=/usr/bin:/bin", "/bin/sh", "-c", "echo hi; echo oops >&2; exit 5"],
            MonitorSettings(box), "go\n");
        var (execOutput, execCode) = await RunAsync([Qemu, binary, "exec", "1", "PATH=/usr/bin:/bin", "sh", "-c", "echo $PATH; exit 6"],
            new() { ["BOXLITE_APPLY_ENV"] = "1" }, "");

        monitorCode.Should().Be(0);
        monitorOutput.Should().StartWith("joined ");
        Read(box, "exit").Should().Be("5\n\n");
        (await LogOfAsync(box)).Select(l => (l.Source, l.Text)).Should().BeEquivalentTo(new[] { (BoxLogSource.StandardOutput, "hi"), (BoxLogSource.StandardError, "oops") });
        (execOutput, execCode).Should().Be(("/usr/bin:/bin\n", 6));
    }

    /// <summary>
    /// Runs a detached box with the real monitor whose command makes each of the cgroups <paramref name="below"/> its own,
    /// starts a daemon (a session of its own, sleeping) in each, and exits once every daemon moved there; returns the box
    /// when its exit is recorded, with nothing of the runtime having looked at it.
    /// </summary>
    private static async Task<BoxContext> RunDaemonsBelowAsync(CgroupSandbox sandbox, IBoxPlatform platform, params string[] below)
    {
        var box = sandbox.NewBox();
        var cmd = Path.Combine(sandbox.Layout.BoxDirectory(box.Id), BoxCgroups.CommandCgroup);
        box = await sandbox.StartWithMonitorAsync(platform, box,
            $"cd '{cmd}' && set -- {string.Join(' ', below)} && mkdir -p \"$@\" || exit 1; " +
            "for d; do setsid sh -c 'echo $$ > \"$0/cgroup.procs\" && exec sleep 1000' \"$PWD/$d\" </dev/null >/dev/null 2>&1 & done; " +
            "for d; do until read p < \"$d/cgroup.procs\"; do sleep 0.01; done; done");
        await CgroupSandbox.WaitUntilAsync(() => ExitStatus.TryRead(box) is not null);
        return box;
    }

    /// <summary>The settings of a detached box's monitor without containment, as the runtime would give them.</summary>
    private static Dictionary<string, string> MonitorSettings(BoxContext box) =>
        new() { ["BOXLITE_CTL"] = box.Directory, ["BOXLITE_WORKDIR"] = box.WorkDirectory, ["BOXLITE_APPLY_ENV"] = "1", ["BOXLITE_LOG_MAX"] = "1024" };

    /// <summary>Runs <paramref name="argv"/> (killed if it outlives the generous deadline); its stdout and exit code.</summary>
    private static async Task<(string Output, int Code)> RunAsync(string[] argv, Dictionary<string, string> settings, string input)
    {
        var start = new ProcessStartInfo(argv[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        argv.Skip(1).ToList().ForEach(start.ArgumentList.Add);
        start.Environment.Clear();
        start.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        try
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
            var output = await process.StandardOutput.ReadToEndAsync(Token);
            await process.WaitForExitAsync(Token).WaitAsync(Generous, Token);
            return (output, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }
}
