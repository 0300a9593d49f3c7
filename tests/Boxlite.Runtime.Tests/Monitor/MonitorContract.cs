using System.Text;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Tests;

/// <summary>
/// What the runtime relies on of a box monitor, tried on the monitor itself (launched as the runtime launches it: own
/// session, clean environment), with real files and real processes and no runtime around it. Each monitor runs it: the
/// portable <c>sh</c> one (<see cref="MonitorScriptTests"/>) and Linux's compiled one (in the Linux tests).
/// </summary>
public abstract class MonitorContract : IDisposable
{
    protected static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private readonly List<MonitorProcess> _monitors = [];

    protected string Home { get; } = Directory.CreateTempSubdirectory("boxlite-monitor-test-").FullName;

    protected static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>The launch plan of the monitor under test, for a box without containment or isolation.</summary>
    private protected abstract BoxLaunchPlan Plan { get; }

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
        var log = await LogOfAsync(box);
        ShouldBeCapped(log, BoxLogSource.StandardOutput, "out", 4096);
        ShouldBeCapped(log, BoxLogSource.StandardError, "err", 4096);
    }

    [Fact]
    public async Task One_byte_writes_to_both_streams_keep_the_log_within_twice_the_cap_headers_included()
    {
        const int cap = 1024;

        // printf is a builtin: one write(2) of one byte each, so nearly every chunk is a frame of its own.
        var box = NewBox(Sh("i=0; while [ $i -lt 3000 ]; do printf x; printf y >&2; i=$((i + 1)); done; exit 3"));
        var monitor = await StartAsync(box, maxLogBytes: cap);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("3\n\n");
        new FileInfo(box.LogFile).Length.Should().BeLessThanOrEqualTo(2 * cap, "each stream's frames, headers included, take at most the cap");
        var log = await LogOfAsync(box);
        log.Should().HaveCount(2, "one unterminated line per stream, read to the end of the file");
        foreach (var (source, text) in new[] { (BoxLogSource.StandardOutput, 'x'), (BoxLogSource.StandardError, 'y') })
        {
            var line = log.Should().ContainSingle(l => l.Source == source).Subject.Text;
            line.Should().MatchRegex($"^{text}+$");

            // A frame of one byte takes four ("o1\nx"): at least a quarter of the cap is output.
            line.Length.Should().BeInRange(cap / 4, cap);
        }
    }

    [Fact]
    public async Task Both_pipes_filled_at_once_far_past_the_cap_never_block_the_command()
    {
        var box = NewBox(Sh("(yes out | head -c 8000000) & (yes err | head -c 8000000 >&2) & wait; exit 4"));
        var monitor = await StartAsync(box, maxLogBytes: 65536);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("4\n\n");
        var log = await LogOfAsync(box);
        ShouldBeCapped(log, BoxLogSource.StandardOutput, "out", 65536);
        ShouldBeCapped(log, BoxLogSource.StandardError, "err", 65536);
    }

    [Fact]
    public async Task Lines_written_in_turn_to_stdout_and_stderr_read_back_in_that_order()
    {
        // Each line is written once the one before is in the log (the log is the control directory's, one level up).
        var box = NewBox(Sh(
            "for i in 1 2 3 4 5; do for s in out err; do " +
            "if [ $s = out ]; then echo $s$i; else echo $s$i >&2; fi; " +
            "until grep -q $s$i ../output.log; do sleep 0.01; done; done; done"));
        var monitor = await StartAsync(box);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        (await LogOfAsync(box)).Should().Equal(Enumerable.Range(1, 5).SelectMany(i => new[]
        {
            new BoxLogLine(BoxLogSource.StandardOutput, $"out{i}"),
            new BoxLogLine(BoxLogSource.StandardError, $"err{i}"),
        }));
    }

    [Fact]
    public async Task A_clean_attached_exit_leaves_nothing_of_the_monitor_running()
    {
        var box = NewBox(Sh("echo done"), detached: false);
        var monitor = await StartAsync(box);

        monitor.Go(detached: false);
        await monitor.Exited.WaitAsync(Generous, Token);

        // The host still holds its end of the pipe: nothing of the monitor may wait for the host.
        ProcessesOfTheMonitor(box).Should().BeEmpty("whatever the monitor started of its own ends with it");
        Read(box, "exit").Should().Be("0\n\n");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public async Task What_the_command_plants_where_it_works_changes_nothing_about_its_box()
    {
        var victim = Path.Combine(Home, "victim");
        await File.WriteAllTextAsync(victim, "secret\n", Token);
        var box = NewBox(Sh(
            $"mkfifo exit child.pid; mkdir host-gone monitor.log; for f in exit.tmp output.log child.pid.tmp; do ln -s '{victim}' $f; done; " +
            "echo real; exit 3"));
        var monitor = await StartAsync(box);

        monitor.Go(detached: true);
        await monitor.Exited.WaitAsync(Generous, Token);

        Read(box, "exit").Should().Be("3\n\n");
        ExitStatus.TryRead(box).Should().Be(new ExitStatus(3, null));
        (await LogOfAsync(box)).Should().Equal(new BoxLogLine(BoxLogSource.StandardOutput, "real"));
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
        (await LogOfAsync(box)).Where(l => l.Source == BoxLogSource.StandardOutput).Select(l => l.Text).Should().Equal("/opt/nothing|a b", "c|/nonexistent.so");
        ReadIfThere(box, "monitor.log").Should().BeEmpty("nothing of the monitor ran with the box's LD_PRELOAD or PATH");
    }

    public void Dispose()
    {
        foreach (var monitor in _monitors)
        {
            monitor.Dispose();
        }

        Directory.Delete(Home, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected static BoxOptions Sh(string script) => new() { Command = "/bin/sh", Args = ["-c", script], Detached = true };

    protected BoxContext NewBox(BoxOptions options, bool detached = true)
    {
        var id = BoxId.New();
        var box = new BoxContext(
            new BoxInfo { Id = id, State = BoxState.Created, Options = options with { Detached = detached }, CreatedAt = DateTimeOffset.UtcNow },
            Path.Combine(Home, "boxes", id.Value));
        Directory.CreateDirectory(box.WorkDirectory);
        return box;
    }

    private protected async Task<MonitorProcess> StartAsync(BoxContext box, BoxLaunchPlan? plan = null, long maxLogBytes = 1 << 20)
    {
        var monitor = await MonitorProcess.StartAsync(box, plan ?? Plan, maxLogBytes, Generous, Token);
        _monitors.Add(monitor);
        return monitor;
    }

    protected static string Read(BoxContext box, string name) => File.ReadAllText(Path.Combine(box.Directory, name));

    protected static async Task<List<BoxLogLine>> LogOfAsync(BoxContext box) =>
        await BoxLog.ReadAsync(box.LogFile, untilFinal: null, TimeProvider.System, Token).ToListAsync(Token);

    protected static async Task<bool> EventuallyAsync(Func<bool> condition)
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

    /// <summary>
    /// The lines of <paramref name="source"/>, from a command that wrote <paramref name="line"/> far past the cap, fill
    /// at least half of the cap and no more (the frames' headers take the rest); the last one may be cut short.
    /// </summary>
    private static void ShouldBeCapped(List<BoxLogLine> log, BoxLogSource source, string line, int cap)
    {
        var lines = log.Where(l => l.Source == source).ToList();
        lines.Should().HaveCountGreaterThanOrEqualTo(cap / (line.Length + 1) / 2).And.HaveCountLessThanOrEqualTo(cap / (line.Length + 1));
        lines.SkipLast(1).Should().OnlyContain(l => l.Text == line);
        line.Should().StartWith(lines[^1].Text);
    }

    private static string ReadIfThere(BoxContext box, string name) =>
        File.Exists(Path.Combine(box.Directory, name)) ? Read(box, name) : string.Empty;

    /// <summary>Live processes started with the monitor's own environment (it names the box directory).</summary>
    private static List<int> ProcessesOfTheMonitor(BoxContext box)
    {
        var needle = Encoding.UTF8.GetBytes("=" + box.Directory + "\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && !File.ReadAllText(Path.Combine(dir, "stat")).Contains(") Z ", StringComparison.Ordinal) &&
                    File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0)
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
}
