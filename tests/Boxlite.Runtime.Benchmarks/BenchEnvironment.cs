using System.Diagnostics;
using System.Text;
using Boxlite.Runtime.Benchmarks.Phases;
using Boxlite.Runtime.Linux;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>
/// A run-unique cgroup parent (<c>boxlite-bench-&lt;random&gt;</c>, v2 and its v1 counterparts) and temp home. Boxes
/// live under <c>&lt;parent&gt;/boxes</c>, the plain-process trees in cgroups this class makes under the parent.
/// Disposing removes every box, kills what is left in those cgroups (only there), removes them and the home.
/// </summary>
internal sealed class BenchEnvironment : IAsyncDisposable
{
    private static readonly CgroupFileSystem Fs = CgroupFileSystem.Instance;
    private readonly List<(BoxRuntime Runtime, bool RemoveBoxes)> _runtimes = [];
    private readonly Dictionary<BoxRuntime, string> _cgroupParents = [];
    private int _cgroups;

    public BenchEnvironment()
    {
        if (!OperatingSystem.IsLinux() || Libc.geteuid() != 0)
        {
            throw new InvalidOperationException("the benchmarks need Linux and root (they make cgroups)");
        }

        var tag = Guid.NewGuid().ToString("N")[..10];
        Parent = "boxlite-bench-" + tag;
        Marker = "bench" + tag;
        Home = Path.Combine(Path.GetTempPath(), Parent);
        Layout = CgroupDiscovery.Discover(Fs, Parent, isRoot: true, CgroupDiscovery.RunningKernel());
        if (Layout.V2Mount is null || !Layout.HasKill)
        {
            throw new InvalidOperationException("the benchmarks need cgroup v2 with cgroup.kill (kernel 5.14+)");
        }

        Root = Path.Combine(Layout.V2Mount, Parent);
        Directory.CreateDirectory(Home);
        _ = Fs.CreateDirectory(Root);
        Runtime = Open("boxes", "home");
    }

    /// <summary>The run-unique cgroup parent.</summary>
    public string Parent { get; }

    /// <summary>An environment value (<c>BENCH_MARKER=…</c>) every process this run starts carries.</summary>
    public string Marker { get; }

    public string Home { get; }

    /// <summary>The parent's v2 directory.</summary>
    public string Root { get; }

    public CgroupLayout Layout { get; }

    /// <summary>The runtime the benchmarks time.</summary>
    public BoxRuntime Runtime { get; }

    /// <summary>
    /// A runtime on <paramref name="home"/> (under this run's home) with box cgroups below this run's parent, disposed
    /// with the environment; with <paramref name="removeBoxesOnDispose"/> its boxes are removed first (records that
    /// never had processes or cgroups need not be: the home is deleted anyway).
    /// </summary>
    /// <param name="reaper">The reaper by name; null for the best one.</param>
    /// <param name="recorder">When given, the runtime's store and platform report their calls to it.</param>
    public BoxRuntime Open(string cgroupSubparent, string home, bool removeBoxesOnDispose = true, string? reaper = null, PhaseRecorder? recorder = null)
    {
        var options = new BoxliteOptions
        {
            HomeDirectory = Path.Combine(Home, home),
            RecoverOnStart = false,
            ReapTimeout = TimeSpan.FromSeconds(30),
            Reaper = reaper,
        };
        IBoxStore store = SqliteBoxStore.Open(options.HomeDirectory);
        var cgroupParent = Parent + "/" + cgroupSubparent;
        var platform = new LinuxPlatform(new LinuxOptions { CgroupParent = cgroupParent })
            .Create(new PlatformContext(options, NullLoggerFactory.Instance, TimeProvider.System, []));
        if (recorder is not null)
        {
            store = new TimedStore(store, recorder);
            platform = new TimedPlatform(platform, recorder);
        }

        var runtime = new BoxRuntime(options, store, platform, ownsStore: true);
        _runtimes.Add((runtime, removeBoxesOnDispose));
        _cgroupParents[runtime] = cgroupParent;
        return runtime;
    }

    /// <summary>The box's v2 cgroup directory.</summary>
    public string BoxCgroup(BoxRuntime runtime, BoxId id) => Path.Combine(Layout.V2Mount!, CgroupParentOf(runtime), id.Value);

    /// <summary>The cgroup parent the boxes of <paramref name="runtime"/> live under.</summary>
    public string CgroupParentOf(BoxRuntime runtime) => _cgroupParents[runtime];

    /// <summary>A fresh cgroup of this run for a plain-process tree.</summary>
    public RawCgroup NewCgroup()
    {
        var dir = Path.Combine(Root, "raw" + Interlocked.Increment(ref _cgroups));
        if (!Fs.CreateDirectory(dir))
        {
            throw new InvalidOperationException($"{dir} exists already");
        }

        return new RawCgroup(dir);
    }

    public BoxOptions Box(string script, bool detached = true) => new()
    {
        Command = "/bin/sh",
        Args = ["-c", script],
        Detached = detached,
        Environment = new Dictionary<string, string> { ["BENCH_MARKER"] = Marker },
    };

    /// <summary>Live (non-zombie) processes carrying this run's marker, found through /proc, independently of cgroups.</summary>
    public List<int> Marked()
    {
        var needle = Encoding.ASCII.GetBytes("BENCH_MARKER=" + Marker + "\0");
        var found = new List<int>();
        foreach (var pid in ProcFs.ListPids())
        {
            try
            {
                if (File.ReadAllBytes($"/proc/{pid}/environ").AsSpan().IndexOf(needle) >= 0 && ProcFs.TryReadStat(pid) is { IsDead: false })
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

    /// <summary>Waits until the count of processes <paramref name="count"/> reports reaches <paramref name="atLeast"/> and holds still.</summary>
    public static async Task<int> WaitForTreeAsync(Func<int> count, int atLeast, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var stable = Stopwatch.StartNew();
        var last = -1;
        while (deadline.Elapsed < timeout)
        {
            var now = count();
            if (now != last)
            {
                last = now;
                stable.Restart();
            }
            else if (now >= atLeast && stable.ElapsedMilliseconds >= 100)
            {
                return now;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"the tree reached {last} processes, not {atLeast}");
    }

    /// <summary>Pids in one cgroup directory and every cgroup below it.</summary>
    public static List<int> ProcessesBelow(string dir)
    {
        var pids = ProcFs.ParsePids(Fs.TryRead(Path.Combine(dir, "cgroup.procs")));
        foreach (var child in Fs.Exists(dir) ? Fs.ListDirectories(dir) : [])
        {
            pids.AddRange(ProcessesBelow(Path.Combine(dir, child)));
        }

        return pids;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (runtime, removeBoxes) in _runtimes)
        {
            foreach (var box in removeBoxes ? await runtime.Store.ListAsync() : [])
            {
                try
                {
                    await runtime.RemoveAsync(box.Id.Value, force: true);
                }
                catch (BoxliteException e)
                {
                    await Console.Error.WriteLineAsync($"cleanup: {box.Id}: {e.Message}");
                }
            }

            await runtime.DisposeAsync();
        }

        // Whatever is still inside this run's own cgroups was started by this run: kill it there, then remove them.
        var roots = new List<string> { Root };
        roots.AddRange(Layout.V1Mounts.Values.Distinct().Select(m => Path.Combine(m, Parent)));
        foreach (var root in roots.Where(Fs.Exists))
        {
            var dirs = new List<string>();
            CollectDeepestFirst(root, dirs);
            foreach (var dir in dirs.Where(d => d != root && Fs.Exists(Path.Combine(d, "cgroup.kill"))))
            {
                await new RawCgroup(dir).KillAsync(TimeSpan.FromSeconds(10));
            }

            foreach (var dir in dirs)
            {
                await RawCgroup.RemoveDirectoryAsync(dir);
            }
        }

        Directory.Delete(Home, recursive: true);
    }

    private static void CollectDeepestFirst(string dir, List<string> into)
    {
        foreach (var child in Fs.ListDirectories(dir))
        {
            CollectDeepestFirst(Path.Combine(dir, child), into);
        }

        into.Add(dir);
    }
}
