using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;

namespace Boxlite.Runtime.Tests.State;

/// <summary>A home has one identity, its fully resolved path, however it is spelled and whether or not it exists yet.</summary>
public sealed class HomeIdentityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("boxlite-identity-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Home => Path.Combine(_root, "home");

    private string[] Spellings => [Home, Home + "/", Home + "/./", Home + "//", _root + "/./home", _root + "/missing/../home"];

    [Fact]
    public void Every_spelling_of_a_home_is_one_home_before_and_after_the_home_exists()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "paths are resolved on Linux and macOS");
        var identity = IdentityOf(Home);

        var before = Spellings.Select(IdentityOf).ToList();
        Directory.CreateDirectory(Home);
        var link = Path.Combine(_root, "link");
        File.CreateSymbolicLink(link, Home);
        var after = Spellings.Append(link).Append(link + "/").Select(IdentityOf).ToList();

        before.Should().AllBe(identity);
        after.Should().AllBe(identity);
    }

    [Fact]
    public async Task A_runtime_and_its_store_reached_through_a_symbolic_link_use_the_real_home()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "paths are resolved on Linux and macOS");
        Directory.CreateDirectory(Home);
        var link = Path.Combine(_root, "link");
        File.CreateSymbolicLink(link, Home);

        using var store = SqliteBoxStore.Open(link + "/./");
        await using var runtime = new BoxRuntime(new BoxliteOptions { HomeDirectory = link }, store, new FakePlatform());

        store.Location.Should().Be(Path.Combine(Home, SqliteBoxStore.FileName));
        runtime.BoxesDirectory.Should().Be(Path.Combine(Home, "boxes"));
    }

    private static string IdentityOf(string home) => new BoxliteOptions { HomeDirectory = home }.ResolvedHomeDirectory;
}
