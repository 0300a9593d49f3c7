using System.Diagnostics;
using System.Globalization;
using System.Text;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// A test-unique cgroup parent (<c>boxlite-test-&lt;random&gt;</c>, v2 and v1) and temp directory; Dispose kills
/// whatever is left inside them (only ever there) and removes them.
/// </summary>
internal sealed class CgroupSandbox : IDisposable
{
    public const string SkipReason = "needs root and a writable cgroup v2 hierarchy";

    private static readonly Lazy<bool> IsAvailable = new(() =>
        OperatingSystem.IsLinux() && Libc.geteuid() == 0 &&
        CgroupDiscovery.Discover(CgroupFileSystem.Instance, "boxlite-probe", true, CgroupDiscovery.RunningKernel()) is { IsUsable: true, HasKill: true, HasFreeze: true });

    private readonly List<Process> _started = [];
    private readonly List<MonitorProcess> _monitors = [];

    public CgroupSandbox()
    {
        Parent = "boxlite-linuxtest-" + Guid.NewGuid().ToString("N")[..12];
        Marker = "BXMARK" + Guid.NewGuid().ToString("N");
        TempDirectory = Directory.CreateTempSubdirectory("boxlite-linux-test-").FullName;
        Layout = CgroupDiscovery.Discover(CgroupFileSystem.Instance, Parent, isRoot: true, CgroupDiscovery.RunningKernel());
    }

    public static bool Available => IsAvailable.Value;

    public string Parent { get; }

    /// <summary>An environment value every test process carries, so survivors can be found in /proc.</summary>
    public string Marker { get; }

    public string TempDirectory { get; }

    public CgroupLayout Layout { get; }

    public LinuxTools Tools { get; } = LinuxTools.Locate();

    public LinuxBoxPlatform Platform(string? reaper = null) =>
        new(new BoxliteOptions { HomeDirectory = TempDirectory, Reaper = reaper, ReapTimeout = TimeSpan.FromSeconds(20) }, new LinuxOptions { CgroupParent = Parent }, [],
            CgroupFileSystem.Instance, Tools, TimeProvider.System);

    public BoxContext NewBox(BoxIsolation isolation = BoxIsolation.None, BoxLimits? limits = null, bool detached = true)
    {
        var id = BoxId.New();
        var dir = Path.Combine(TempDirectory, id.Value);
        var options = new BoxOptions { Command = "/bin/sh", Isolation = isolation, Limits = limits ?? BoxLimits.None, Detached = detached };
        var box = new BoxContext(new BoxInfo { Id = id, State = BoxState.Created, Options = options, CreatedAt = DateTimeOffset.UtcNow }, dir);
        Directory.CreateDirectory(box.WorkDirectory);
        return box;
    }

    /// <summary>
    /// The minimal launcher: <c>setsid sh -c</c> that joins every join file, then the command files, then execs the
    /// isolation prefix (with an empty environment block, and descriptor 3 when the prefix records the namespace pid
    /// through it) and the tree script. Returns the box with the launcher recorded as its monitor.
    /// </summary>
    public BoxContext LaunchTree(BoxContext box, BoxLaunchPlan plan, string treeScript)
    {
        var joins = string.Join(" ", plan.JoinFiles.Concat(plan.CommandJoinFiles).Select(f => $"'{f}'"));
        var nspid = plan.NamespacePidOnDescriptor3 ? $"exec 3>'{box.CommandNamespacePidFile}'; " : "";
        var launcher = $"for f in {joins}; do echo $$ > \"$f\" || exit 125; done; echo $$ > '{box.ChildPidFile}'; {nspid}exec \"$@\"";
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, WorkingDirectory = box.WorkDirectory };
        string[] environmentBlock = plan.CommandPrefix.Count > 0 ? ["0"] : [];
        foreach (var a in new[] { "/bin/sh", "-c", launcher, "launcher" }.Concat(plan.CommandPrefix).Concat(environmentBlock).Concat(["/bin/sh", "-c", treeScript]))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["BXTEST_MARK"] = Marker;
        psi.Environment["BOXDIR"] = box.Directory;
        var process = Process.Start(psi)!;
        _started.Add(process);
        var identity = ProcessSignaller.TryGetIdentity(process.Id) ?? throw new InvalidOperationException("launcher died at once");
        return box with { Info = box.Info with { Monitor = identity, State = BoxState.Running } };
    }

    /// <summary>
    /// Runs the real box monitor with the platform's plan, the command <c>sh -c treeScript</c> marked through its
    /// environment; returns the box with the monitor recorded.
    /// </summary>
    public async Task<BoxContext> StartWithMonitorAsync(IBoxPlatform platform, BoxContext box, string treeScript)
    {
        box = box with
        {
            Info = box.Info with
            {
                Options = box.Info.Options with { Args = ["-c", treeScript], Environment = new Dictionary<string, string> { ["BXTEST_MARK"] = Marker } },
            },
        };
        var plan = await platform.PrepareAsync(box, CancellationToken.None);
        var monitor = await MonitorProcess.StartAsync(box, plan, 1 << 20, TimeSpan.FromSeconds(30), CancellationToken.None);
        _monitors.Add(monitor);
        await platform.VerifyContainedAsync(box, monitor.Pid, CancellationToken.None);
        var identity = platform.TryGetIdentity(monitor.Pid)!;
        monitor.Go(box.Info.Options.Detached);
        return box with { Info = box.Info with { Monitor = identity, State = BoxState.Running } };
    }

    /// <summary>Waits until the box's command cgroup holds at least <paramref name="count"/> processes and stops growing.</summary>
    public async Task<int> WaitForTreeAsync(BoxContext box, int count, TimeSpan? timeout = null)
    {
        var dir = Path.Combine(Layout.BoxDirectory(box.Id), BoxCgroups.CommandCgroup);
        var cgroups = new BoxCgroups(Layout, CgroupFileSystem.Instance);
        var deadline = Stopwatch.StartNew();
        var last = -1;
        var stableSince = Stopwatch.StartNew();
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            var now = cgroups.ReadProcessesBelow(dir).Count;
            if (now != last)
            {
                last = now;
                stableSince.Restart();
            }
            else if (now >= count && stableSince.ElapsedMilliseconds > 150)
            {
                return now;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"the tree reached {last} processes, not {count}");
    }

    /// <summary>Waits (generously, never as a timing assertion) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            sw.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the condition should come true");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Live processes carrying this sandbox's marker.</summary>
    public List<int> MarkedProcesses()
    {
        var needle = Encoding.ASCII.GetBytes("BXTEST_MARK=" + Marker);
        var found = new List<int>();
        foreach (var pid in ProcFs.ListPids())
        {
            try
            {
                var env = File.ReadAllBytes($"/proc/{pid}/environ");
                if (env.AsSpan().IndexOf(needle) >= 0 && ProcFs.TryReadStat(pid) is { IsDead: false })
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

    /// <summary>Waits (bounded) until no marked process is alive; returns those still alive.</summary>
    public async Task<List<int>> MarkedSurvivorsAfterAsync(TimeSpan grace)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var left = MarkedProcesses();
            if (left.Count == 0 || sw.Elapsed > grace)
            {
                return left;
            }

            await Task.Delay(20);
        }
    }

    public void Dispose()
    {
        // Only this sandbox's own cgroups are touched: kill what is left in them, then remove them deepest first.
        var fs = CgroupFileSystem.Instance;
        var roots = new List<string>();
        if (Layout.V2Mount is { } v2)
        {
            roots.Add(Path.Combine(v2, Parent));
        }

        roots.AddRange(Layout.V1Mounts.Values.Distinct().Select(m => Path.Combine(m, Parent)));
        foreach (var root in roots.Where(fs.Exists))
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var dirs = new List<string>();
                Collect(root, dirs);
                var pids = dirs.SelectMany(d => ProcFs.ParsePids(fs.TryRead(Path.Combine(d, "cgroup.procs")))).ToList();
                foreach (var d in dirs.Where(d => d != root && fs.Exists(Path.Combine(d, "cgroup.kill"))))
                {
                    try
                    {
                        fs.Write(Path.Combine(d, "cgroup.kill"), "1");
                    }
                    catch (IOException)
                    {
                    }
                }

                foreach (var pid in pids)
                {
                    _ = Libc.kill(pid, LinuxSignals.Kill);
                }

                if (dirs.All(d => fs.RemoveDirectory(d) is 0 or Libc.ENOENT))
                {
                    break;
                }

                Thread.Sleep(10);
            }
        }

        // Marked processes outside any cgroup (process-reaper tests) are ours too.
        foreach (var pid in MarkedProcesses())
        {
            _ = Libc.kill(pid, LinuxSignals.Kill);
        }

        foreach (var p in _started)
        {
            p.Dispose();
        }

        foreach (var m in _monitors)
        {
            m.Dispose();
        }

        try
        {
            Directory.Delete(TempDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Collect(string dir, List<string> into)
    {
        foreach (var child in CgroupFileSystem.Instance.ListDirectories(dir))
        {
            Collect(Path.Combine(dir, child), into);
        }

        into.Add(dir);
    }
}
