using System.Text.Json;

namespace Boxlite.Cli.Tests;

/// <summary>What belongs to boxlite and what to the box's command, and how text from a box reaches the terminal.</summary>
[Trait("Category", "AdversarialBox")]
public sealed class CommandLineTests
{
    [Fact]
    public async Task An_option_after_the_command_word_belongs_to_the_command_and_does_not_detach_the_box()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync("run", "printf", "%s|", "a", "-d", "b");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StdoutLines.Should().Equal("a|-d|b|");
        var box = (await home.ListAllAsync()).Should().ContainSingle().Subject;
        box.GetProperty("detached").GetBoolean().Should().BeFalse();
        box.GetProperty("args").EnumerateArray().Select(a => a.GetString()).Should().Equal("%s|", "a", "-d", "b");
    }

    [Fact]
    public async Task A_name_option_after_the_command_word_does_not_name_the_box()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync("run", "echo", "--name", "foo", "bar");

        result.StdoutLines.Should().Equal("--name foo bar");
        (await home.ListAllAsync()).Should().ContainSingle().Which.GetProperty("name").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task A_home_option_after_the_command_word_creates_no_home()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var elsewhere = home.Directory + "-elsewhere";

        var result = await home.RunAsync("run", "printf", "x", "--home", elsewhere);

        result.StdoutLines.Should().Equal("x");
        Directory.Exists(elsewhere).Should().BeFalse();
        (await home.ListAllAsync()).Should().ContainSingle();
    }

    [Fact]
    public async Task Options_after_the_command_word_of_exec_belong_to_the_command()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        await home.RunDetachedAsync("--name", "host", "--", "sleep", "300");

        var result = await home.RunAsync("exec", "host", "printf", "%s|", "-d", "--home", "/nowhere", "--debug");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StdoutLines.Should().Equal("-d|--home|/nowhere|--debug|");
    }

    [Fact]
    public async Task Ls_and_inspect_escape_control_characters_from_the_command_line()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        await home.RunAsync("run", "--name", "loud", "--", "true", "\u001b]0;pwned\u0007\u001b[2J", "\u009b31m", "tab\there");

        var listed = await home.OkAsync("ls", "-a");
        var inspected = await home.OkAsync("inspect", "loud");

        foreach (var output in new[] { listed.Stdout, inspected.Stdout })
        {
            output.Where(c => c != '\n' && char.IsControl(c)).Should().BeEmpty();
            output.Should().Contain(@"$'\e]0;pwned\a\e[2J' $'\x9b31m' $'tab\there'");
        }
    }
}
