using System.Text;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>A box's own command reading the input it is started with, on the real Linux platform.</summary>
public sealed class StdinTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task A_box_command_reads_the_text_it_is_given_then_end_of_file(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var result = await home.Runtime.RunToCompletionAsync(home.Sh("cat; echo end", isolation), BoxInput.FromText("one\ntwo\n"), Generous, Token);

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Should().Be("one\ntwo\nend\n");
    }

    [Fact]
    public async Task An_attached_box_run_with_a_stream_reads_it_from_its_position_to_its_end()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        using var input = new MemoryStream(Encoding.UTF8.GetBytes("skipped|one\ntwo\n"));
        input.Position = "skipped|".Length;

        var box = await home.Runtime.RunAsync(home.Sh("cat; echo end", detached: false), BoxInput.FromStream(input), Token);

        (await box.WaitAsync(Generous, Token)).Should().Be(0);
        (await box.ReadLogsAsync(cancellationToken: Token).Select(l => l.Text).ToListAsync(Token)).Should().Equal("one", "two", "end");
    }

    [Fact]
    public async Task A_box_command_that_never_reads_its_input_still_exits_and_its_box_is_finalized()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var moreThanAPipeHolds = new byte[1 << 20];

        var box = await home.Runtime.RunAsync(home.Sh("true"), BoxInput.FromBytes(moreThanAPipeHolds), Token);

        (await box.WaitAsync(Generous, Token)).Should().Be(0);
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Exited);
        home.CountMarked().Should().Be(0);
    }
}
