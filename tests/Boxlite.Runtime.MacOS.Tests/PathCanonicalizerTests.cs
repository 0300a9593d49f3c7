using Boxlite.Runtime.MacOS.Isolation;

namespace Boxlite.Runtime.MacOS.Tests;

public sealed class PathCanonicalizerTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "boxlite-canon-" + Guid.NewGuid().ToString("N")[..12]);

    public PathCanonicalizerTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "private", "tmp"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "tmp"), Path.Combine(_root, "private", "tmp"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "relative"), "private");
    }

    private string Real => FileSystemPathCanonicalizer.Instance.Canonicalize(_root);

    [Fact]
    public void An_absolute_link_is_replaced_by_its_target()
    {
        FileSystemPathCanonicalizer.Instance.Canonicalize(Path.Combine(_root, "tmp", "box"))
            .Should().Be(Path.Combine(Real, "private", "tmp", "box"));
    }

    [Fact]
    public void A_relative_link_resolves_from_its_own_directory()
    {
        FileSystemPathCanonicalizer.Instance.Canonicalize(Path.Combine(_root, "relative", "tmp"))
            .Should().Be(Path.Combine(Real, "private", "tmp"));
    }

    [Fact]
    public void Dot_dot_after_a_link_climbs_from_the_target_not_from_the_link()
    {
        FileSystemPathCanonicalizer.Instance.Canonicalize(Path.Combine(_root, "tmp", "..", "x"))
            .Should().Be(Path.Combine(Real, "private", "x"));
    }

    [Fact]
    public void A_missing_tail_is_kept_as_written()
    {
        FileSystemPathCanonicalizer.Instance.Canonicalize(Path.Combine(_root, "tmp", "not", "yet"))
            .Should().Be(Path.Combine(Real, "private", "tmp", "not", "yet"));
    }

    [Fact]
    public void A_relative_path_is_refused()
    {
        var canonicalize = () => FileSystemPathCanonicalizer.Instance.Canonicalize("relative/path");

        canonicalize.Should().Throw<ArgumentException>();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
