using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// A temporary home and a test-unique cgroup parent (<c>boxlite-test-*</c>) for real boxes. Disposing removes every
/// box (force), then the parent cgroups and the home: a test leaves no process, cgroup or directory behind.
/// </summary>
internal sealed class LinuxHome : IAsyncDisposable
{
    /// <summary>A home in <paramref name="parent"/> (default: the temp directory).</summary>
    public LinuxHome(string? parent = null)
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        Home = Path.Combine(parent ?? Path.GetTempPath(), "boxlite-test-" + tag);
        CgroupParent = "boxlite-test-" + tag;
        Options = new BoxliteOptions { HomeDirectory = Home, RecoverOnStart = false, DefaultStopTimeout = TimeSpan.FromSeconds(5) };
        Runtime = Open();
    }

    /// <summary>True when this process can run real boxes: root, and a cgroup v2 hierarchy.</summary>
    public static bool CanRunBoxes { get; } =
        Environment.UserName == "root" && File.ReadAllText("/proc/self/mountinfo").Contains(" - cgroup2 ", StringComparison.Ordinal);

    public const string SkipReason = "needs root and a writable cgroup v2 hierarchy (CI runs as root)";

    public string Home { get; }

    public string CgroupParent { get; }

    public BoxliteOptions Options { get; }

    public BoxRuntime Runtime { get; }

    /// <summary>A marker every process of a test's boxes carries in its environment.</summary>
    public string Marker { get; } = "m" + Guid.NewGuid().ToString("N");

    /// <summary>Another runtime on the same home, as a second process would open it.</summary>
    public BoxRuntime Open() => Open(Options, CgroupParent);

    /// <summary>A runtime built as a host builds it: these settings, the Linux platform with box cgroups under <paramref name="cgroupParent"/>.</summary>
    public static BoxRuntime Open(BoxliteOptions options, string cgroupParent) =>
        new BoxliteRuntimeBuilder(options).AddLinux(o => o.CgroupParent = cgroupParent).Build();

    public BoxOptions Sh(string script, BoxIsolation isolation = BoxIsolation.None, bool detached = true) => new()
    {
        Command = "/bin/sh",
        Args = ["-c", script],
        Isolation = isolation,
        Detached = detached,
        Environment = new Dictionary<string, string> { ["BOX_MARKER"] = Marker },
    };

    /// <summary>Live (non-zombie) processes carrying this test's marker, found independently of any cgroup.</summary>
    public int CountMarked() => Marked().Count;

    public List<int> Marked() => Marked(Marker);

    /// <summary>Processes whose environment carries <c>BOX_MARKER=<paramref name="marker"/></c>.</summary>
    public static List<int> Marked(string marker)
    {
        var needle = System.Text.Encoding.ASCII.GetBytes("BOX_MARKER=" + marker);
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>Directories of this test's cgroup parent in every hierarchy (v2 and v1).</summary>
    public IEnumerable<string> ParentDirectories() =>
        Directory.EnumerateDirectories("/sys/fs/cgroup").Select(d => Path.Combine(d, CgroupParent)).Append(Path.Combine("/sys/fs/cgroup", CgroupParent)).Where(Directory.Exists);

    public string V2BoxDirectory(BoxId id) =>
        ParentDirectories().Select(p => Path.Combine(p, id.Value)).FirstOrDefault(d => File.Exists(Path.Combine(d, "cgroup.events"))) ?? "(none)";

    /// <summary>Box cgroups left under this test's parent, in any hierarchy.</summary>
    public List<string> LeftoverCgroups() => ParentDirectories().SelectMany(Directory.EnumerateDirectories).ToList();

    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var until = DateTime.UtcNow + within;
        while (DateTime.UtcNow < until)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        await using (var cleaner = Open())
        {
            await cleaner.RecoverAsync();
            foreach (var box in await cleaner.Store.ListAsync())
            {
                try
                {
                    await cleaner.RemoveAsync(box.Id.Value, force: true);
                }
                catch (BoxliteException)
                {
                }
            }
        }

        await Runtime.DisposeAsync();
        foreach (var parent in ParentDirectories().ToList())
        {
            foreach (var child in Directory.EnumerateDirectories(parent))
            {
                foreach (var grandchild in Directory.EnumerateDirectories(child))
                {
                    Directory.Delete(grandchild);
                }

                Directory.Delete(child);
            }

            Directory.Delete(parent);
        }

        if (Directory.Exists(Home))
        {
            Directory.Delete(Home, recursive: true);
        }
    }
}
