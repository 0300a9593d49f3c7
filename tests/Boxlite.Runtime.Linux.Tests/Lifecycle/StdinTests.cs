using System.Text;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Reaping;

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

    [Fact]
    public async Task The_input_of_a_box_command_ends_once_its_exit_is_noticed_though_a_leftover_holds_it_unread()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);

        // Without a cgroup nothing kills what the command leaves behind when it exits.
        await using var home = new LinuxHome(o => o.Reaper = SinglePidReaper.MethodName);
        try
        {
            var box = await home.Runtime.RunAsync(home.Sh("exec 3<&0; (exec sleep 600) <&3 & exit 0"), BoxInput.FromStream(new EndlessStream()), Token);
            (await box.WaitAsync(Generous, Token)).Should().Be(0);
            string? input = null;
            (await LinuxHome.EventuallyAsync(() => (input = home.Marked().Select(pid => LinkOf($"/proc/{pid}/fd/0")).FirstOrDefault(IsPipe)) is not null, Generous))
                .Should().BeTrue("the leftover holds the command's input");

            (await LinuxHome.EventuallyAsync(() => !Directory.EnumerateFiles("/proc/self/fd").Any(fd => LinkOf(fd) == input), Generous)).Should()
                .BeTrue("the feeding stops and this process lets go of the input pipe once the box's exit is noticed");
        }
        finally
        {
            // The leftover outlives its box here; it carries this test's marker.
            foreach (var pid in home.Marked())
            {
                _ = Libc.kill(pid, LinuxSignals.Kill);
            }
        }
    }

    private static bool IsPipe(string? link) => link?.StartsWith("pipe:", StringComparison.Ordinal) == true;

    private static string? LinkOf(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Zeros, for ever.</summary>
    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Clear(buffer, offset, count);
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
