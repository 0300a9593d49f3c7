namespace Boxlite.Cli.Tests;

/// <summary>Bad input: exit code 1, one line on stderr, no stack trace, and nothing created.</summary>
public sealed class BadInputTests(BadInputTests.SharedHome shared) : IClassFixture<BadInputTests.SharedHome>
{
    /// <summary>One home for the rejections that must leave it empty (each case checks that it still is).</summary>
    public sealed class SharedHome : IAsyncLifetime
    {
        internal TestHome Home { get; } = new();

        public ValueTask InitializeAsync() => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => Home.DisposeAsync();
    }

    [Theory]
    [InlineData("rm", "../../etc")]
    [InlineData("rm", "nosuchbox")]
    [InlineData("inspect", "nosuchbox")]
    [InlineData("run", "--memory", "-5", "--", "true")]
    [InlineData("run", "--memory", "12q", "--", "true")]
    [InlineData("run", "--pids-limit", "0", "--", "true")]
    [InlineData("run", "--cpus", "0", "--", "true")]
    [InlineData("run", "--name", "a/b", "--", "true")]
    [InlineData("run", "--")]
    [InlineData("run", "--isolation", "nope", "--", "true")]
    [InlineData("run", "--stop-signal", "NOPE", "--", "true")]
    [InlineData("run", "-e", "=value", "--", "true")]
    [InlineData("run", "-e", "A-B=1", "--", "true")]
    [InlineData("run", "-e", "SPACE KEY=v", "--", "true")]
    [InlineData("run", "--bogus", "true")]
    [InlineData("run", "--pids-limit", "99999999999", "--", "true")]
    [InlineData("run", "--pids-limit", "1.5", "--", "true")]
    [InlineData("run", "--stop-timeout", "soon", "--", "true")]
    [InlineData("run", "-i", "-d", "--", "cat")]
    [InlineData("stop", "-t", "soon", "somebox")]
    [InlineData("stop")]
    [InlineData("no-such-command")]
    public async Task Is_rejected_with_one_line_and_creates_nothing(params string[] args)
    {
        TestHome.RequireLinux();
        var home = shared.Home;

        var result = await home.RunAsync(args);

        ShouldBeRejected(result);
        (await home.RecordsAsync()).Should().BeEmpty();
        home.BoxDirectories.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--pids-limit '99999999999' is not a whole number", "run", "--pids-limit", "99999999999", "--", "true")]
    [InlineData("--stop-timeout 'soon' is not a number of seconds", "run", "--stop-timeout", "soon", "--", "true")]
    [InlineData("--time '-1' is not a number of seconds", "stop", "-t", "-1", "somebox")]
    [InlineData("'A-B' is not a variable name", "run", "-e", "A-B=1", "--", "true")]
    public async Task A_bad_value_is_explained_in_words_naming_the_option(string explanation, params string[] args)
    {
        TestHome.RequireLinux();

        var result = await shared.Home.RunAsync(args);

        result.StderrLines.Should().ContainSingle().Which.Should().Contain(explanation).And.NotContain("System.");
    }

    [Fact]
    public async Task An_ambiguous_id_prefix_is_rejected_and_changes_nothing()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var ids = new List<string>();
        string? shared = null;
        while (shared is null)
        {
            ids.AddRange(await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => home.RunDetachedAsync("--", "true"))));
            shared = ids.GroupBy(id => id[..1]).FirstOrDefault(g => g.Count() > 1)?.Key;
        }

        var result = await home.RunAsync("rm", shared);

        ShouldBeRejected(result);
        result.Stderr.Should().Contain("matches");
        (await home.RecordsAsync()).Should().HaveCount(ids.Count);
        home.BoxDirectories.Should().BeEquivalentTo(ids);
    }

    [Fact]
    public async Task A_duplicate_name_is_rejected_and_creates_nothing()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--name", "taken", "--", "sleep", "300");

        var result = await home.RunAsync("run", "-d", "--name", "taken", "--", "true");

        ShouldBeRejected(result);
        (await home.RecordsAsync()).Select(b => b.Id.Value).Should().Equal(id);
        home.BoxDirectories.Should().Equal(id);
    }

    [Fact]
    public async Task Exec_into_an_exited_box_is_rejected_and_changes_nothing()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        await home.RunAsync("run", "--name", "gone", "--", "true");
        var before = await home.RecordAsync("gone");

        var result = await home.RunAsync("exec", "gone", "--", "echo", "hi");

        ShouldBeRejected(result);
        result.Stderr.Should().Contain("exited");
        (await home.RecordAsync("gone")).Should().BeEquivalentTo(before);
        home.BoxDirectories.Should().ContainSingle();
    }

    private static void ShouldBeRejected(CliResult result)
    {
        result.ExitCode.Should().Be(1, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().ContainSingle().Which.Should().StartWith("boxlite: ");
    }
}
