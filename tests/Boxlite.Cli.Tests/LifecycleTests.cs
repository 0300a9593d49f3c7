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
        (await home.InspectAsync(id)).GetProperty("state").GetString().Should().Be("exited");
    }

    [Fact]
    public async Task Rm_force_reaps_a_running_nested_tree_says_what_it_reaped_and_leaves_nothing()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--name", "tree", "--", "sh", "-c", "sleep 300 & (sleep 300 &); setsid sleep 300 & sh -c 'sleep 300 & wait' & wait");

        var result = await home.OkAsync("rm", "-f", "tree");

        result.StdoutLines.Should().ContainSingle().Which.Should().MatchRegex("^" + id + ReapLine);
        result.StdoutLines[0].Should().NotStartWith(id + " removed: 0 ");
        (await home.ListAllAsync()).Should().BeEmpty();
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
        var id = await home.RunDetachedAsync("--", "sleep", "300");

        await home.OkAsync("pause", id);
        var paused = (await home.InspectAsync(id)).GetProperty("state").GetString();
        await home.OkAsync("resume", id);
        var resumed = (await home.InspectAsync(id)).GetProperty("state").GetString();

        paused.Should().Be("paused");
        resumed.Should().Be("running");
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
        (await home.ListAllAsync()).Select(b => b.GetProperty("id").GetString()).Should().Equal(live);
        home.BoxDirectories.Should().Equal(live);
    }
}
