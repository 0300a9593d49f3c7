using Boxlite.Runtime;

namespace Boxlite.Cli.Tests;

public sealed class RunTests
{
    [Fact]
    public async Task A_foreground_run_streams_stdout_and_stderr_and_exits_with_the_box_exit_code()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync("run", "--", "sh", "-c", "echo out-line; echo err-line >&2; exit 7");

        result.ExitCode.Should().Be(7, result.ToString());
        result.StdoutLines.Should().Equal("out-line");
        result.StderrLines.Should().Equal("err-line");
        var box = (await home.RecordsAsync()).Should().ContainSingle().Subject;
        box.State.Should().Be(BoxState.Exited);
        box.ExitCode.Should().Be(7);
        box.Detached.Should().BeFalse();
    }

    [Fact]
    public async Task An_interactive_foreground_run_gives_the_command_boxlites_stdin_then_end_of_file()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunWithInputAsync("one\ntwo\n", "run", "-i", "--rm", "--", "sh", "-c", "cat; echo end");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StdoutLines.Should().Equal("one", "two", "end");
    }

    [Fact]
    public async Task A_detached_run_prints_the_box_id_last_and_returns_while_the_box_runs()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.OkAsync("run", "-d", "--name", "sleeper", "-e", "GREETING=hello", "--", "sh", "-c", "echo $GREETING; sleep 300");

        var id = result.StdoutLines[^1];
        id.Should().MatchRegex("^[a-z0-9]{16}$");
        var box = await home.RecordAsync("sleeper");
        box.Id.Value.Should().Be(id);
        box.State.Should().Be(BoxState.Running);
        box.Detached.Should().BeTrue();
        box.ExitCode.Should().BeNull();
    }

    [Fact]
    public async Task A_foreground_run_with_rm_leaves_no_box_behind()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync("run", "--rm", "--", "sh", "-c", "echo bye; exit 3");

        result.ExitCode.Should().Be(3, result.ToString());
        result.StdoutLines.Should().Equal("bye");
        (await home.RecordsAsync()).Should().BeEmpty();
        home.BoxDirectories.Should().BeEmpty();
    }

    [Fact]
    public async Task Sigterm_to_a_foreground_run_stops_the_box_and_its_whole_tree()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        // The box reports the pid of a grandchild that escaped into its own session, then waits.
        using var cli = home.Start("run", "--name", "fg", "--", "sh", "-c", "setsid sleep 300 & echo $!; sleep 300");
        var firstLine = await cli.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(Cli.Deadline, TestContext.Current.CancellationToken);
        var escapee = int.Parse(firstLine!, System.Globalization.CultureInfo.InvariantCulture);
        Cli.Terminate(cli);
        var result = await Cli.CompleteAsync(cli);

        result.ExitCode.Should().NotBe(0, result.ToString());
        IsSleeping(escapee).Should().BeFalse("the setsid'd grandchild is reaped with the box");
        var box = await home.RecordAsync("fg");
        box.State.Should().Be(BoxState.Exited);
        box.ExitCode.Should().Be(result.ExitCode);
    }

    private static bool IsSleeping(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
