namespace Boxlite.Runtime.Tests;

public sealed class BoxOptionsTests
{
    private static readonly BoxOptions Valid = new() { Command = "/bin/true" };

    [Fact]
    public void Valid_options_have_no_problems() => Valid.Validate().Should().BeEmpty();

    [Theory]
    [InlineData("web")]
    [InlineData("a")]
    [InlineData("My_box.1-2")]
    public void Docker_like_names_are_accepted(string name) => (Valid with { Name = name }).Validate().Should().BeEmpty();

    [Theory]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData("a/b")]
    [InlineData("../etc")]
    [InlineData("a b")]
    [InlineData("name\n")]
    [InlineData("ｗeb")]
    public void Bad_names_are_rejected(string name) => (Valid with { Name = name }).Validate().Should().ContainSingle();

    [Fact]
    public void A_name_longer_than_128_characters_is_rejected()
    {
        (Valid with { Name = new string('a', 128) }).Validate().Should().BeEmpty();
        (Valid with { Name = new string('a', 129) }).Validate().Should().ContainSingle();
    }

    [Fact]
    public void Every_problem_is_listed_not_only_the_first()
    {
        var options = new BoxOptions
        {
            Command = " ",
            Args = ["ok", "bad\0arg"],
            Environment = new Dictionary<string, string> { [""] = "x", ["A=B"] = "y", ["V"] = "nul\0", ["BOXLITE_DIR"] = "z" },
            StopSignal = "NOPE",
            StopTimeout = TimeSpan.FromSeconds(-1),
            Limits = new BoxLimits { MemoryBytes = -5, Cpus = 0, PidsMax = 0 },
            WorkingDirectory = "relative",
        };

        var problems = options.Validate();

        problems.Should().HaveCount(12);
        problems.Should().Contain(p => p.Contains("command is empty", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("argument 1", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("stop signal 'NOPE'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("TERM", "TERM")]
    [InlineData("sigterm", "TERM")]
    [InlineData("SIGINT", "INT")]
    [InlineData("9", "KILL")]
    [InlineData("usr1", "USR1")]
    public void Stop_signals_are_normalized(string given, string expected)
    {
        BoxSignals.TryNormalize(given, out var name).Should().BeTrue();
        name.Should().Be(expected);
    }

    [Theory]
    [InlineData("NOPE")]
    [InlineData("")]
    [InlineData("99")]
    [InlineData("SIG")]
    public void Unknown_stop_signals_are_rejected(string given) => BoxSignals.TryNormalize(given, out _).Should().BeFalse();

    [Theory]
    [InlineData("PATH", true)]
    [InlineData("_private9", true)]
    [InlineData("A-B", false)]
    [InlineData("SPACE KEY", false)]
    [InlineData("9LIVES", false)]
    [InlineData("", false)]
    [InlineData("ÉTÉ", false)]
    [InlineData("A\nB", false)]
    public void Environment_names_are_shell_identifiers(string name, bool valid) =>
        BoxOptions.IsValidEnvironmentName(name).Should().Be(valid);

    [Fact]
    public void Runtime_settings_are_validated_as_a_whole()
    {
        var options = new BoxliteOptions { HomeDirectory = "relative", ReapTimeout = TimeSpan.Zero, MaxLogBytes = 10 };

        options.Validate().Should().HaveCount(3);
    }
}
