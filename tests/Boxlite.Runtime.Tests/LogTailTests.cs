namespace Boxlite.Runtime.Tests;

public sealed class LogTailTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "boxlite-logtail-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => File.Delete(_file);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chunk_holds_at_most_one_chunk_of_lines_and_the_rest_stays_in_the_file()
    {
        await File.WriteAllTextAsync(_file, string.Concat(Enumerable.Repeat("y\n", LogTail.ChunkBytes)), Ct);
        await using var tail = new LogTail(_file, BoxLogSource.StandardOutput);
        var lines = new List<BoxLogLine>();

        (await tail.ReadChunkAsync(lines, Ct)).Should().BeTrue();

        lines.Should().HaveCount(LogTail.ChunkBytes / 2).And.AllBeEquivalentTo(new BoxLogLine(BoxLogSource.StandardOutput, "y"));
    }

    [Fact]
    public async Task A_line_longer_than_the_limit_comes_back_in_pieces_and_nothing_is_lost()
    {
        var text = new string('x', LogTail.MaxLineChars * 2 + 10);
        await File.WriteAllTextAsync(_file, text + "\nend", Ct);
        await using var tail = new LogTail(_file, BoxLogSource.StandardError);
        var lines = new List<BoxLogLine>();

        while (await tail.ReadChunkAsync(lines, Ct))
        {
        }

        tail.Flush(lines);
        lines.Select(l => l.Text.Length).Should().Equal(LogTail.MaxLineChars, LogTail.MaxLineChars, 10, 3);
        string.Concat(lines.Take(3).Select(l => l.Text)).Should().Be(text);
        lines[^1].Text.Should().Be("end");
    }

    [Fact]
    public async Task A_file_that_is_not_a_regular_file_reads_as_not_there_yet()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs mkfifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [_file]))
        {
            await mkfifo.WaitForExitAsync(Ct);
        }

        await using var tail = new LogTail(_file, BoxLogSource.StandardOutput);

        (await tail.ReadChunkAsync([], Ct)).Should().BeFalse("a FIFO is never opened (that would block)");
    }
}
