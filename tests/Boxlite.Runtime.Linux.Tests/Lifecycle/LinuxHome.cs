using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// A temporary home and a test-unique cgroup parent (<c>boxlite-test-*</c>) for real boxes, for root or for a user
/// with a delegated cgroup v2 subtree. Disposing removes every box (force), then the parent cgroups and the home: a
/// test leaves no process, cgroup or directory behind.
/// </summary>
internal sealed class LinuxHome : IAsyncDisposable
{
    /// <summary>The platform this host and user get by default (the reaper honours <c>$BOXLITE_REAPER</c>).</summary>
    private static readonly Lazy<LinuxBoxPlatform?> Default = new(() =>
        OperatingSystem.IsLinux() ? (LinuxBoxPlatform)LinuxPlatform.Create(new BoxliteOptions { CgroupParent = "boxlite-test-probe" }) : null);

    /// <param name="reaper">The reaper to force, or null for the default.</param>
    /// <param name="parent">The directory the home is made in (default: the temp directory).</param>
    public LinuxHome(string? reaper = null, string? parent = null)
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        Home = Path.Combine(parent ?? Path.GetTempPath(), "boxlite-test-" + tag);
        CgroupParent = "boxlite-test-" + tag;
        Options = new BoxliteOptions { HomeDirectory = Home, CgroupParent = CgroupParent, RecoverOnStart = false, DefaultStopTimeout = TimeSpan.FromSeconds(5) };
        Options.Reaper = reaper ?? Options.Reaper;
        Layout = CgroupDiscovery.Discover(CgroupFileSystem.Instance, CgroupParent, Libc.geteuid() == 0, CgroupDiscovery.RunningKernel());
        Runtime = Open();
    }

    /// <summary>Where box cgroups go for this host and user by default, or null off Linux.</summary>
    public static CgroupLayout? DefaultLayout => Default.Value?.Layout;

    /// <summary>True when this process can run real boxes of any isolation: its default reaper reaps by cgroup.</summary>
    public static bool CanRunBoxes => Default.Value?.Reaper is CgroupReaper;

    /// <summary>Why <see cref="CanRunBoxes"/> is false.</summary>
    public static string SkipReason => Default.Value is { } platform
        ? $"needs a cgroup v2 hierarchy this user can write (root, or a delegated subtree) for a cgroup reaper; here {platform.Reaper.Name} is active: {platform.Layout.BoxRootDetail}"
        : "needs Linux";

    /// <summary>True when this process can run boxes with a private PID namespace and reap them whole without a cgroup (pidns-init).</summary>
    public static bool CanRunNamespacedBoxes => NamespaceReaperSupport?.IsSupported == true;

    /// <summary>Why <see cref="CanRunNamespacedBoxes"/> is false.</summary>
    public static string NamespacedSkipReason => NamespaceReaperSupport?.Reason ?? "needs Linux";

    private static ReaperSupport? NamespaceReaperSupport => Default.Value?.Reapers.OfType<PidNamespaceInitReaper>().Single().Support;

    public string Home { get; }

    public string CgroupParent { get; }

    /// <summary>Where this home's box cgroups go, for this user.</summary>
    public CgroupLayout Layout { get; }

    public BoxliteOptions Options { get; }

    public BoxRuntime Runtime { get; }

    /// <summary>A marker every process of a test's boxes carries in its environment.</summary>
    public string Marker { get; } = "m" + Guid.NewGuid().ToString("N");

    /// <summary>Another runtime on the same home, as a second process would open it.</summary>
    public BoxRuntime Open() => new(Options, SqliteBoxStore.Open(Home), LinuxPlatform.Create(Options), ownsStore: true);

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

    /// <summary>
    /// The processes of the box's command (its <c>cmd</c> cgroup and below), without the monitor, its log writers or
    /// a test host: what a test waits for before it ends the box.
    /// </summary>
    public List<int> CommandTree(BoxId id)
    {
        var dir = Path.Combine(V2BoxDirectory(id), BoxCgroups.CommandCgroup);
        return Directory.Exists(dir)
            ? [.. Directory.EnumerateDirectories(dir, "*", SearchOption.AllDirectories).Prepend(dir)
                .SelectMany(d => ProcFs.ParsePids(ProcFs.TryRead(Path.Combine(d, "cgroup.procs"))))]
            : [];
    }

    /// <summary>Directories of this test's cgroup parent in every hierarchy (v2 and v1).</summary>
    public IEnumerable<string> ParentDirectories() =>
        new[] { Layout.BoxRoot }.OfType<string>().Concat(Layout.V1Mounts.Values.Distinct().Select(m => Path.Combine(m, CgroupParent))).Where(Directory.Exists);

    /// <summary>The box's v2 cgroup (which exists only while the box has one).</summary>
    public string V2BoxDirectory(BoxId id) => Layout.BoxRoot is null ? "(none)" : Layout.BoxDirectory(id);

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
