using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging.Abstractions;

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
        OperatingSystem.IsLinux() ? Platform(new BoxliteOptions(), "boxlite-test-probe") : null);

    /// <summary>A home in <paramref name="parent"/> (default: the temp directory), its options adjusted by <paramref name="configure"/>.</summary>
    public LinuxHome(Action<BoxliteOptions>? configure = null, string? parent = null)
    {
        var tag = Guid.NewGuid().ToString("N")[..12];
        Home = Path.Combine(parent ?? Path.GetTempPath(), "boxlite-test-" + tag);
        CgroupParent = "boxlite-test-" + tag;
        Options = new BoxliteOptions { HomeDirectory = Home, RecoverOnStart = false, DefaultStopTimeout = TimeSpan.FromSeconds(5) };
        configure?.Invoke(Options);
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

    private static ReaperSupport? NamespaceReaperSupport => Default.Value?.BuiltInReapers.OfType<PidNamespaceInitReaper>().Single().Support;

    public string Home { get; }

    public string CgroupParent { get; }

    /// <summary>Where this home's box cgroups go, for this user.</summary>
    public CgroupLayout Layout { get; }

    public BoxliteOptions Options { get; }

    public BoxRuntime Runtime { get; }

    /// <summary>A marker every process of a test's boxes carries in its environment.</summary>
    public string Marker { get; } = "m" + Guid.NewGuid().ToString("N");

    /// <summary>Another runtime on the same home, as a second process would open it (on <paramref name="platform"/> if given).</summary>
    public BoxRuntime Open(IBoxPlatform? platform = null) =>
        platform is null ? Open(Options, CgroupParent) : new(Options, SqliteBoxStore.Open(Home), platform, ownsStore: true);

    /// <summary>A runtime built as a host builds it: these settings, the Linux platform with box cgroups under <paramref name="cgroupParent"/>.</summary>
    public static BoxRuntime Open(BoxliteOptions options, string cgroupParent) =>
        new BoxliteRuntimeBuilder(options).AddLinux(o => o.CgroupParent = cgroupParent).Build();

    /// <summary>The Linux platform for these settings, with box cgroups under <paramref name="cgroupParent"/> and no registered reapers.</summary>
    public static LinuxBoxPlatform Platform(BoxliteOptions options, string cgroupParent) =>
        (LinuxBoxPlatform)new LinuxPlatform(new LinuxOptions { CgroupParent = cgroupParent })
            .Create(new PlatformContext(options, NullLoggerFactory.Instance, TimeProvider.System, []));

    /// <summary>The Linux platform for this home's settings and cgroup parent.</summary>
    public LinuxBoxPlatform Platform() => Platform(Options, CgroupParent);

    /// <summary>The box's cgroup directory and every directory below it, in the v2 hierarchy and each v1 hierarchy.</summary>
    public List<string> BoxCgroupTree(BoxId id) =>
        [.. ParentDirectories().Select(p => Path.Combine(p, id.Value)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateDirectories(d, "*", SearchOption.AllDirectories).Prepend(d))];

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
    public static List<int> Marked(string marker) => Markers.Carrying("BOX_MARKER=" + marker);

    /// <summary>A marker only the command's own tree carries (not the box monitor's processes).</summary>
    public string TreeMarker { get; } = "t" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// The argv that runs <paramref name="script"/> with every process of its tree carrying <see cref="TreeMarker"/>, followed
    /// by the box's <c>BOX_INDEX</c> when the test host set one.
    /// </summary>
    public string[] TreeArgv(string script) => ["/bin/sh", "-c", $"exec env \"BOX_TREE={TreeMarker}-${{BOX_INDEX:-}}\" /bin/sh -c \"$1\"", "sh", script];

    /// <summary><see cref="Sh"/>, with the tree marked (see <see cref="TreeArgv"/>).</summary>
    public BoxOptions ShTree(string script, BoxIsolation isolation = BoxIsolation.None) =>
        Sh("", isolation) with { Command = TreeArgv(script)[0], Args = TreeArgv(script)[1..] };

    /// <summary>Live processes of the commands' own trees (of the box with that <c>BOX_INDEX</c>), whatever the monitors run beside them.</summary>
    public int CountTree(int? index = null) => Markers.Carrying($"BOX_TREE={TreeMarker}-" + (index is null ? "" : $"{index}\0")).Count;

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
        TestCgroups.Remove(ParentDirectories().ToList());

        // A monitor-exit callback of a disposed runtime may still touch the home for a moment.
        for (var attempt = 0; Directory.Exists(Home); attempt++)
        {
            try
            {
                Directory.Delete(Home, recursive: true);
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(20);
            }
        }
    }
}
