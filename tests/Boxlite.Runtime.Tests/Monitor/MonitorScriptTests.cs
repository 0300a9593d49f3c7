using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.Tests.Fakes;

namespace Boxlite.Runtime.Tests;

/// <summary>
/// The box monitor itself (the script, as its launcher starts it: own session, clean environment), with real files and
/// real processes and no runtime around it.
/// </summary>
public sealed class MonitorScriptTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly string _home = Directory.CreateTempSubdirectory("boxlite-monitor-test-").FullName;
    private readonly List<MonitorProcess> _monitors = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_go_the_command_never_runs_and_the_exit_reads_not_started()
    {
        var box = NewBox(Sh("touch ran"));
        var monitor = await StartAsync(box);

        monitor.Abort();

        Read(box, "exit").Should().Be("125\nnot-started\n");
        File.Exists(Path.Combine(box.WorkDirectory, "ran")).Should().BeFalse();
    }

    [Fact]
    public async Task Both_logs_stop_at_the_cap_and_the_command_is_never_blocked()
    {
        var box = NewBox(Sh("yes out | head -c 1000000; yes err | head -c 1000000 >&2; exit 3"));
        var monitor = await StartAsync(box, maxLogBytes: 4096);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("3\n\n");
        new FileInfo(Path.Combine(box.Directory, "stdout.log")).Length.Should().Be(4096);
        new FileInfo(Path.Combine(box.Directory, "stderr.log")).Length.Should().Be(4096);
    }

    [Fact]
    public async Task When_the_host_end_closes_the_command_is_killed_and_host_gone_is_the_reason()
    {
        // The kill path here is the group keeper's (a pid told to stop); the command plays the keeper itself.
        var box = NewBox(Sh("echo $$ > keeper.tmp && mv keeper.tmp keeper; exec sleep 1000"), detached: false);
        var keeper = Path.Combine(box.WorkDirectory, "keeper");
        var monitor = await StartAsync(box, new BoxLaunchPlan { KillPidFile = keeper });
        monitor.Go(detached: false);
        (await EventuallyAsync(() => File.Exists(keeper))).Should().BeTrue();

        monitor.Dispose();

        (await EventuallyAsync(() => ExitStatusOf(box) is not null)).Should().BeTrue();
        Read(box, "exit").Should().Be("143\nhost-gone\n", "the command died of the SIGTERM its keeper got");
    }

    [Fact]
    public async Task A_clean_attached_exit_leaves_nothing_of_the_monitor_running()
    {
        var box = NewBox(Sh("echo done"), detached: false);
        var monitor = await StartAsync(box);

        monitor.Go(detached: false);
        await monitor.Exited.WaitAsync(Generous, Token);

        // The host still holds its end of the pipe: the watcher must have ended with the monitor, not with the host.
        ProcessesOfTheMonitor(box).Should().BeEmpty("the watcher and the loggers are the monitor's own children");
        Read(box, "exit").Should().Be("0\n\n");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task What_the_command_plants_where_it_works_changes_nothing_about_its_box()
    {
        var victim = Path.Combine(_home, "victim");
        await File.WriteAllTextAsync(victim, "secret\n", Token);
        var box = NewBox(Sh(
            $"mkfifo exit child.pid; mkdir host-gone monitor.log; for f in exit.tmp stdout.log stderr.log command.nspid; do ln -s '{victim}' $f; done; " +
            "echo real; exit 3"));
        var monitor = await StartAsync(box);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("3\n\n");
        ExitStatusOf(box).Should().Be(new ExitStatus(3, null));
        Read(box, "stdout.log").Should().Be("real\n");
        (await File.ReadAllTextAsync(victim, Token)).Should().Be("secret\n");
    }

    [Fact]
    public async Task The_launchers_environment_is_its_own_and_the_box_PATH_applies_to_the_command_only()
    {
        var box = NewBox(new BoxOptions
        {
            Command = "/bin/sh",
            Args = ["-c", "echo \"$PATH|$BOX_VAR|$LD_PRELOAD\""],
            Detached = true,
            Environment = new Dictionary<string, string> { ["PATH"] = "/opt/nothing", ["BOX_VAR"] = "a b\nc", ["LD_PRELOAD"] = "/nonexistent.so" },
        });
        var monitor = await StartAsync(box);
        var environ = await File.ReadAllTextAsync($"/proc/{monitor.Pid}/environ", Token);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        environ.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(e => !e.StartsWith("BOXLITE_", StringComparison.Ordinal))
            .Should().Equal("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        Read(box, "stdout.log").Should().Be("/opt/nothing|a b\nc|/nonexistent.so\n");
        Read(box, "monitor.log").Should().BeEmpty("nothing of the monitor ran with the box's LD_PRELOAD or PATH");
    }

    public void Dispose()
    {
        foreach (var monitor in _monitors)
        {
            monitor.Dispose();
        }

        Directory.Delete(_home, recursive: true);
    }

    private static BoxOptions Sh(string script) => new() { Command = "/bin/sh", Args = ["-c", script], Detached = true };

    private BoxContext NewBox(BoxOptions options, bool detached = true)
    {
        var id = BoxId.New();
        var box = new BoxContext(
            new BoxInfo { Id = id, State = BoxState.Created, Options = options with { Detached = detached }, CreatedAt = DateTimeOffset.UtcNow },
            Path.Combine(_home, "boxes", id.Value));
        Directory.CreateDirectory(box.WorkDirectory);
        return box;
    }

    private async Task<MonitorProcess> StartAsync(BoxContext box, BoxLaunchPlan? plan = null, long maxLogBytes = 1 << 20)
    {
        var monitor = await MonitorProcess.StartAsync(box, plan ?? new BoxLaunchPlan(), maxLogBytes, Generous, Token);
        _monitors.Add(monitor);
        return monitor;
    }

    /// <summary>Live processes forked from this box's monitor (they share its environment, which names the box directory).</summary>
    private static List<int> ProcessesOfTheMonitor(BoxContext box)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes("=" + box.Directory + "\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(System.IO.Path.GetFileName(dir), out var pid) && Posix.Stat(pid) is { State: not 'Z' } &&
                    File.ReadAllBytes(System.IO.Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    private static string Read(BoxContext box, string name) => File.ReadAllText(Path.Combine(box.Directory, name));

    private static ExitStatus? ExitStatusOf(BoxContext box) => ExitStatus.TryRead(box);

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(10, Token);
        }

        return true;
    }
}
