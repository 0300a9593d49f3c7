using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Tests;

/// <summary>Control files are read only when they are small regular files; anything else is unknown, never a hang.</summary>
[Trait("Category", "AdversarialBox")]
public sealed class ControlFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("boxlite-control-test-").FullName;

    [Fact]
    public void A_small_regular_file_reads_as_its_text()
    {
        File.WriteAllText(Path("exit"), "7\n\n");

        ControlFile.TryRead(Path("exit")).Should().Be("7\n\n");
    }

    [Fact]
    public void A_fifo_reads_as_unknown_without_waiting_for_a_writer()
    {
        Posix.mkfifo(Path("exit"), 0x180).Should().Be(0);

        ControlFile.TryRead(Path("exit")).Should().BeNull();
    }

    [Fact]
    public void A_directory_a_device_a_symlink_and_a_missing_file_read_as_unknown()
    {
        Directory.CreateDirectory(Path("dir"));
        File.WriteAllText(Path("target"), "0\n\n");
        File.CreateSymbolicLink(Path("link"), Path("target"));

        ControlFile.TryRead(Path("dir")).Should().BeNull();
        ControlFile.TryRead("/dev/zero").Should().BeNull();
        ControlFile.TryRead(Path("link")).Should().BeNull();
        ControlFile.TryRead(Path("missing")).Should().BeNull();
    }

    [Fact]
    public void A_file_over_the_bound_reads_as_unknown()
    {
        File.WriteAllText(Path("big"), new string('1', ControlFile.MaxLength + 1));
        File.WriteAllText(Path("full"), new string('1', ControlFile.MaxLength));

        ControlFile.TryRead(Path("big")).Should().BeNull();
        ControlFile.TryRead(Path("full")).Should().HaveLength(ControlFile.MaxLength);
    }

    [Theory]
    [InlineData("")]
    [InlineData("7")]
    [InlineData("7\n")]
    [InlineData("x\n\n")]
    [InlineData("7\n\nmore\n")]
    public void An_incomplete_or_malformed_exit_record_is_no_exit_status(string text)
    {
        var box = new BoxContext(new BoxInfo { Id = BoxId.New(), State = BoxState.Running, Options = new BoxOptions { Command = "x" }, CreatedAt = DateTimeOffset.UtcNow }, _dir);
        File.WriteAllText(box.ExitFile, text);

        ExitStatus.TryRead(box).Should().BeNull();
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path(string name) => System.IO.Path.Combine(_dir, name);
}
