using System.Runtime.Versioning;
using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;

namespace Boxlite.Runtime.Tests.State;

/// <summary>
/// A home is trusted only when nobody but its user can change it. Each shape below is prepared for real (the user
/// nobody makes its part); the runtime must refuse it before it writes anything.
/// </summary>
[Trait("Category", "AdversarialBox")]
[UnsupportedOSPlatform("windows")]
public sealed class HomeTrustTests : IDisposable
{
    private const UnixFileMode Open = (UnixFileMode)0x1FF;

    /// <summary>Like /tmp: root's, writable by all, sticky; so nobody can make its own entries here.</summary>
    private readonly string _root;

    public HomeTrustTests()
    {
        _root = Directory.CreateTempSubdirectory("boxlite-home-test-").FullName;
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(_root, Open | UnixFileMode.StickyBit);
        }
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Home => Path.Combine(_root, "home");

    public static TheoryData<string> UnsafeShapes => [.. Shapes.Keys];

    /// <summary>Each prepares an unsafe home and returns the path to give the runtime, and what the refusal names.</summary>
    private static readonly Dictionary<string, Func<HomeTrustTests, Task<(string Home, string Names)>>> Shapes = new()
    {
        ["the home is nobody's"] = async t =>
        {
            await OtherUser.DoAsync($"mkdir -m 700 '{t.Home}' && mkdir -m 700 '{t.Home}/boxes'");
            return (t.Home, $"owned by uid {OtherUser.Uid}");
        },
        ["the home would be made in a directory nobody owns"] = async t =>
        {
            await OtherUser.DoAsync($"mkdir -m 755 '{t._root}/shared'");
            return (Path.Combine(t._root, "shared", "home"), $"parent directory {t._root}/shared is owned by uid {OtherUser.Uid}");
        },
        ["boxes was swapped for a link to nobody's directory of planted logs"] = async t =>
        {
            Directory.CreateDirectory(t.Home);
            await OtherUser.DoAsync($"mkdir -p '{t._root}/planted/x' && ln -s /etc/shadow '{t._root}/planted/x/stdout.log'");
            File.CreateSymbolicLink(Path.Combine(t.Home, "boxes"), Path.Combine(t._root, "planted"));
            return (t.Home, "is a symbolic link");
        },
        ["boxes is nobody's"] = async t =>
        {
            Directory.CreateDirectory(t.Home);
            await OtherUser.DoAsync($"mkdir -m 700 '{t._root}/theirs'");
            Directory.Move(Path.Combine(t._root, "theirs"), Path.Combine(t.Home, "boxes"));
            return (t.Home, $"owned by uid {OtherUser.Uid}");
        },
        ["the database is nobody's"] = async t =>
        {
            Directory.CreateDirectory(t.Home);
            await OtherUser.DoAsync($"touch '{t._root}/theirs.db' && chmod 600 '{t._root}/theirs.db'");
            File.Move(Path.Combine(t._root, "theirs.db"), Path.Combine(t.Home, SqliteBoxStore.FileName));
            return (t.Home, $"owned by uid {OtherUser.Uid}");
        },
        ["the database is a symbolic link"] = t =>
        {
            Directory.CreateDirectory(t.Home);
            File.CreateSymbolicLink(Path.Combine(t.Home, SqliteBoxStore.FileName), Path.Combine(t._root, "elsewhere.db"));
            return Task.FromResult((t.Home, "is a symbolic link"));
        },
        ["the write-ahead log is a symbolic link"] = t =>
        {
            Directory.CreateDirectory(t.Home);
            File.CreateSymbolicLink(Path.Combine(t.Home, SqliteBoxStore.FileName + "-wal"), Path.Combine(t._root, "elsewhere"));
            return Task.FromResult((t.Home, "is a symbolic link"));
        },
        ["the home is writable by others"] = t =>
        {
            Directory.CreateDirectory(t.Home);
            File.SetUnixFileMode(t.Home, Open);
            return Task.FromResult((t.Home, "writable by group or others (mode 0777)"));
        },
        ["the home is writable by its group"] = t =>
        {
            Directory.CreateDirectory(t.Home);
            File.SetUnixFileMode(t.Home, (UnixFileMode)0x1F8);
            return Task.FromResult((t.Home, "writable by group or others (mode 0770)"));
        },
        ["a directory above the home is writable by others and not sticky"] = t =>
        {
            var open = Directory.CreateDirectory(Path.Combine(t._root, "open")).FullName;
            File.SetUnixFileMode(open, Open);
            return Task.FromResult((Path.Combine(open, "home"), $"parent directory {open} is writable by group or others (mode 0777)"));
        },
    };

    [Theory]
    [MemberData(nameof(UnsafeShapes))]
    public async Task An_unsafe_home_is_refused_with_the_reason_and_the_fix_before_anything_is_written(string shape)
    {
        OtherUser.Require();
        var (home, names) = await Shapes[shape](this);
        var before = Snapshot();

        var act = () => Build(home);

        (await act.Should().ThrowAsync<PlatformCapabilityException>())
            .Which.Should().Match<PlatformCapabilityException>(e => e.Reason.Contains(names, StringComparison.Ordinal) && e.Fix.Length > 0);
        Snapshot().Should().Equal(before);
    }

    [Fact]
    public async Task A_home_under_a_sticky_directory_like_tmp_is_accepted_and_made_private()
    {
        OtherUser.Require();

        await using (await Build(Home))
        {
        }

        File.GetUnixFileMode(Home).Should().Be((UnixFileMode)0x1C0);
        File.GetUnixFileMode(Path.Combine(Home, "boxes")).Should().Be((UnixFileMode)0x1C0);
        File.GetUnixFileMode(Path.Combine(Home, SqliteBoxStore.FileName)).Should().Be((UnixFileMode)0x180);
    }

    [Fact]
    public async Task An_existing_database_readable_by_others_is_made_private()
    {
        OtherUser.Require();
        Directory.CreateDirectory(Home);
        var database = Path.Combine(Home, SqliteBoxStore.FileName);
        await File.WriteAllBytesAsync(database, [], TestContext.Current.CancellationToken);
        File.SetUnixFileMode(database, (UnixFileMode)0x1A4);

        await using (await Build(Home))
        {
        }

        File.GetUnixFileMode(database).Should().Be((UnixFileMode)0x180);
    }

    private Task<IBoxRuntime> Build(string home) =>
        new BoxliteRuntimeBuilder()
            .Configure(o => { o.HomeDirectory = home; o.RecoverOnStart = false; })
            .AddPlatform(new FakePlatformFactory(new FakePlatform()))
            .BuildAsync(TestContext.Current.CancellationToken);

    /// <summary>Every entry below the test directory: path, kind, mode, size, link target (links not followed).</summary>
    private List<string> Snapshot() =>
        [.. new DirectoryInfo(_root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(e => $"{e.FullName} {e.UnixFileMode} {(e as FileInfo)?.Length} {e.LinkTarget}")
            .Order(StringComparer.Ordinal)];
}
