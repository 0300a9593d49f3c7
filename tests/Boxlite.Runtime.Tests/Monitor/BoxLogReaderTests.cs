using System.Text;
using Boxlite.Runtime.Monitor;

namespace Boxlite.Runtime.Tests;

/// <summary>The one reader of the box log format (written by both monitors): frames of either stream, in file order.</summary>
public sealed class BoxLogReaderTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "boxlite-log-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => File.Delete(_file);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lines_of_both_streams_come_back_in_frame_order_each_assembled_within_its_stream()
    {
        await File.WriteAllTextAsync(_file, Frame('o', "a") + Frame('e', "x\n") + Frame('o', "b\nc\n") + Frame('e', "y") + Frame('o', "d"), Ct);

        var lines = await ReadAllAsync();

        lines.Should().Equal(Err("x"), Out("ab"), Out("c"), Err("y"), Out("d"));
    }

    [Fact]
    public async Task A_frame_cut_off_at_the_end_of_the_file_is_completed_by_the_next_read()
    {
        await File.WriteAllTextAsync(_file, "o1", Ct);
        await using var reader = new BoxLogReader(_file);
        var lines = new List<BoxLogLine>();
        await reader.ReadChunkAsync(lines, Ct);

        await File.AppendAllTextAsync(_file, "2\nhello world\n" + Frame('e', "done\n"), Ct);
        while (await reader.ReadChunkAsync(lines, Ct))
        {
        }

        lines.Should().Equal(Out("hello world"), Err("done"));
    }

    [Fact]
    public async Task A_chunk_holds_at_most_one_chunk_of_lines_and_the_rest_stays_in_the_file()
    {
        await File.WriteAllTextAsync(_file, Frame('o', string.Concat(Enumerable.Repeat("y\n", BoxLogReader.ChunkBytes))), Ct);
        await using var reader = new BoxLogReader(_file);
        var lines = new List<BoxLogLine>();

        (await reader.ReadChunkAsync(lines, Ct)).Should().BeTrue();

        lines.Should().HaveCountLessThanOrEqualTo(BoxLogReader.ChunkBytes / 2).And.AllBeEquivalentTo(Out("y"));
    }

    [Fact]
    public async Task A_line_longer_than_the_limit_comes_back_in_pieces_and_nothing_is_lost()
    {
        var text = new string('x', LineSplitter.MaxLineChars * 2 + 10);
        await File.WriteAllTextAsync(_file, Frame('e', text[..100_000]) + Frame('e', text[100_000..] + "\nend"), Ct);

        var lines = await ReadAllAsync();

        lines.Select(l => l.Text.Length).Should().Equal(LineSplitter.MaxLineChars, LineSplitter.MaxLineChars, 10, 3);
        string.Concat(lines.Take(3).Select(l => l.Text)).Should().Be(text);
        lines[^1].Should().Be(Err("end"));
    }

    [Fact]
    public async Task What_is_not_a_frame_ends_the_log()
    {
        await File.WriteAllTextAsync(_file, Frame('o', "kept\n") + "stdout written without a frame\n" + Frame('o', "lost\n"), Ct);

        var lines = await ReadAllAsync();

        lines.Should().Equal(Out("kept"));
    }

    [Fact]
    public async Task A_file_that_is_not_a_regular_file_reads_as_not_there_yet()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs mkfifo");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [_file]))
        {
            await mkfifo.WaitForExitAsync(Ct);
        }

        await using var reader = new BoxLogReader(_file);

        (await reader.ReadChunkAsync([], Ct)).Should().BeFalse("a FIFO is never opened (that would block)");
    }

    private static string Frame(char stream, string text) => $"{stream}{Encoding.UTF8.GetByteCount(text)}\n{text}";

    private static BoxLogLine Out(string text) => new(BoxLogSource.StandardOutput, text);

    private static BoxLogLine Err(string text) => new(BoxLogSource.StandardError, text);

    private async Task<List<BoxLogLine>> ReadAllAsync()
    {
        await using var reader = new BoxLogReader(_file);
        var lines = new List<BoxLogLine>();
        while (await reader.ReadChunkAsync(lines, Ct))
        {
        }

        reader.Flush(lines);
        return lines;
    }
}
