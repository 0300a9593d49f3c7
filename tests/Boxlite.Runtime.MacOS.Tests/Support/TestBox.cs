using Boxlite.Runtime.MacOS.Reaping;

namespace Boxlite.Runtime.MacOS.Tests.Support;

/// <summary>A box record and a real, temporary box directory, removed on dispose.</summary>
internal sealed class TestBox : IDisposable
{
    public TestBox(BoxOptions? options = null, ProcessIdentity? monitor = null, string? home = null)
    {
        Home = home ?? Path.Combine(Path.GetTempPath(), "boxlite-macos-test-" + Guid.NewGuid().ToString("N")[..12]);
        var id = BoxId.New();
        var directory = Path.Combine(Home, "boxes", id.Value);
        Context = new BoxContext(new BoxInfo
        {
            Id = id,
            State = BoxState.Running,
            Options = options ?? new BoxOptions { Command = "/bin/sleep", Args = ["1000"] },
            CreatedAt = DateTimeOffset.UtcNow,
            Monitor = monitor,
        }, directory);
        System.IO.Directory.CreateDirectory(Context.WorkDirectory);
    }

    public string Home { get; }

    public BoxContext Context { get; }

    public string Directory => Context.Directory;

    /// <summary>Writes a keeper registration as the keeper script does, with the given modification time.</summary>
    public string Register(int pid, bool group = true, DateTimeOffset? writtenAt = null, string name = GroupKeepers.BoxKeeperName)
    {
        System.IO.Directory.CreateDirectory(GroupKeepers.DirectoryOf(Context));
        var file = Path.Combine(GroupKeepers.DirectoryOf(Context), name);
        File.WriteAllText(file, $"{pid} {(group ? "group" : "single")}\n");
        File.SetLastWriteTimeUtc(file, (writtenAt ?? FakeProcessTable.Now).UtcDateTime);
        return file;
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Home))
        {
            System.IO.Directory.Delete(Home, recursive: true);
        }
    }
}
