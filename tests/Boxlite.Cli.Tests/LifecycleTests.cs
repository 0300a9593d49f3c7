using Boxlite.Runtime;
using Boxlite.Runtime.Linux.Tests;

namespace Boxlite.Cli.Tests;

public sealed class LifecycleTests
{
    private const string ReapLine = @" (stopped|removed): \d+ process(es)? reaped by [a-z-]+ in \d+\.\d ms$";

    [Fact]
    public async Task Stop_says_how_many_processes_were_reaped_by_which_method_and_how_fast()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--", "sh", "-c", "trap '' TERM; sleep 300 & sleep 300 & wait");

        var result = await home.OkAsync("stop", "-t", "0.2", id);

        result.StdoutLines.Should().ContainSingle().Which.Should().MatchRegex("^" + id + ReapLine);
        (await home.RecordAsync(id)).State.Should().Be(BoxState.Exited);
    }

    [Fact]
    public async Task Rm_force_reaps_a_running_nested_tree_says_what_it_reaped_and_leaves_nothing()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var tree = "BOX_TREE=" + Guid.NewGuid().ToString("N");
        var id = await home.RunDetachedAsync("--name", "tree", "-e", "BOX_MARKER=" + home.Marker, "--",
            "env", tree, "sh", "-c", "sleep 300 & (sleep 300 &); setsid sleep 300 & sh -c 'sleep 300 & wait' & wait");
        (await Eventually(() => Markers.Carrying(tree).Count >= 6)).Should().BeTrue("the whole tree (only its processes carry BOX_TREE) is up before the remove");

        var result = await home.OkAsync("rm", "-f", "tree");

        result.StdoutLines.Should().ContainSingle().Which.Should().MatchRegex("^" + id + ReapLine);
        result.StdoutLines[0].Should().NotStartWith(id + " removed: 0 ");
        home.MarkedProcesses().Should().BeEmpty("the daemonized and setsid'd processes are reaped too");
        home.BoxCgroups(id).Should().BeEmpty();
        (await home.RecordsAsync()).Should().BeEmpty();
        home.BoxDirectories.Should().BeEmpty();
    }

    [Fact]
    public async Task Exec_streams_the_output_of_a_command_in_the_box_and_returns_its_exit_code()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        await home.RunDetachedAsync("--name", "host", "--", "sleep", "300");

        var result = await home.RunAsync("exec", "host", "--", "sh", "-c", "echo from-exec; echo to-err >&2; exit 42");

        result.ExitCode.Should().Be(42, result.ToString());
        result.StdoutLines.Should().Equal("from-exec");
        result.StderrLines.Should().Equal("to-err");
    }

    [Fact]
    public async Task Logs_prints_what_the_box_wrote_to_each_stream()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        await home.RunAsync("run", "--name", "talker", "--", "sh", "-c", "echo one; echo two; echo oops >&2");

        var result = await home.OkAsync("logs", "talker");
        var followed = await home.OkAsync("logs", "-f", "talker");

        result.StdoutLines.Should().Equal("one", "two");
        result.StderrLines.Should().Equal("oops");
        followed.StdoutLines.Should().Equal("one", "two");
    }

    [Fact]
    public async Task Following_the_logs_of_a_box_that_floods_its_output_stays_within_bounded_memory()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--", "yes");
        const int Followed = 8 << 20;

        using var follower = home.Start("logs", "-f", id);
        var buffer = new byte[64 * 1024];
        var read = 0;
        while (read < Followed && await follower.StandardOutput.BaseStream.ReadAsync(buffer, TestContext.Current.CancellationToken) is > 0 and var n)
        {
            read += n;
        }

        var peakKib = long.Parse(File.ReadLines($"/proc/{follower.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        Cli.Terminate(follower);
        var result = await Cli.CompleteAsync(follower, follower.StandardOutput.BaseStream.CopyToAsync(Stream.Null, TestContext.Current.CancellationToken).ContinueWith(_ => "", TaskScheduler.Default));

        read.Should().BeGreaterThanOrEqualTo(Followed, "the follower printed the flood");
        peakKib.Should().BeLessThan(100_000, "following holds one bounded chunk at a time, not the whole log");
        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public async Task Wait_prints_and_returns_the_exit_code_of_the_box()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--", "sh", "-c", "sleep 0.3; exit 5");

        var result = await home.RunAsync("wait", id);

        result.ExitCode.Should().Be(5, result.ToString());
        result.StdoutLines.Should().Equal("5");
    }

    [Fact]
    public async Task Pause_freezes_a_box_and_resume_thaws_it()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var counter = Path.Combine(home.Directory, "counter");
        var id = await home.RunDetachedAsync("--", "sh", "-c", Counting.DaemonScript(counter) + "; sleep 300");
        (await Counting.MovesPastAsync(counter, await Counting.ReadAsync(counter))).Should().BeTrue("the counter runs before the pause");

        await home.OkAsync("pause", id);
        var events = await File.ReadAllTextAsync(Path.Combine(home.V2BoxCgroup(id), "cgroup.events"), TestContext.Current.CancellationToken);
        var paused = (await home.RecordAsync(id)).State;
        var frozenAt = await Counting.ReadAsync(counter);
        await Counting.LetRoundsPassAsync();
        var stillAt = await Counting.ReadAsync(counter);
        await home.OkAsync("resume", id);

        events.Should().Contain("frozen 1");
        paused.Should().Be(BoxState.Paused);
        stillAt.Should().Be(frozenAt, "the daemonized counter, deep in the box's tree, is frozen too");
        (await home.RecordAsync(id)).State.Should().Be(BoxState.Running);
        (await Counting.MovesPastAsync(counter, stillAt)).Should().BeTrue("resuming lets it count again");
    }

    [Fact]
    public async Task Stats_json_counts_the_processes_of_the_whole_box()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--", "sh", "-c", "sleep 300 & sleep 300 & wait");

        var stats = (await home.OkAsync("stats", id, "--json")).Json;

        stats.GetProperty("id").GetString().Should().Be(id);
        stats.GetProperty("processes").GetInt32().Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task Prune_removes_exited_boxes_and_keeps_live_ones()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var live = await home.RunDetachedAsync("--", "sleep", "300");
        await home.RunAsync("run", "--", "true");
        await home.RunAsync("run", "--", "false");

        var result = await home.OkAsync("prune");

        result.StdoutLines.Should().HaveCount(2);
        (await home.RecordsAsync()).Select(b => b.Id.Value).Should().Equal(live);
        home.BoxDirectories.Should().Equal(live);
    }

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Cli.Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return true;
    }
}
