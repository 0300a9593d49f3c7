using System.Globalization;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>The cgroups of one box.</summary>
/// <param name="Directory">Its v2 directory. It holds no process itself; killing or freezing it covers the whole box.</param>
/// <param name="V1Directories">Its directory in each v1 hierarchy (controller → directory), whether made or not.</param>
internal sealed record BoxCgroup(string Directory, IReadOnlyDictionary<string, string> V1Directories)
{
    /// <summary>The machinery's cgroup: the monitor and its log writers.</summary>
    public string MonitorDirectory => Path.Combine(Directory, BoxCgroups.MonitorCgroup);

    /// <summary>The command's cgroup, where the limits are.</summary>
    public string CommandDirectory => Path.Combine(Directory, BoxCgroups.CommandCgroup);
}

/// <summary>
/// The cgroups of boxes. A box's v2 cgroup <c>&lt;root&gt;/&lt;id&gt;</c> holds no process itself (the no-internal-processes
/// rule lets it enable controllers for its children): the monitor and its log writers live in <c>&lt;id&gt;/monitor</c>,
/// the command's tree in <c>&lt;id&gt;/cmd</c>, where the limits are, so that a limit binds the command and never
/// starves the machinery. On hybrid hosts the v1 counterparts hold the limits the v2 hierarchy cannot, and only the
/// command joins them.
/// </summary>
internal sealed class BoxCgroups(CgroupLayout layout, ICgroupFileSystem fs, bool trackMemoryV1 = true)
{
    /// <summary>Name of the command's sub-cgroup.</summary>
    public const string CommandCgroup = "cmd";

    /// <summary>Name of the machinery's sub-cgroup (the monitor and its log writers).</summary>
    public const string MonitorCgroup = "monitor";

    /// <summary>Parents whose name starts so are the library's own (the default is <c>boxlite-&lt;hash&gt;</c>): removed once empty.</summary>
    public const string OwnedParentPrefix = "boxlite-";

    /// <summary>The least CPU share the kernel enforces: a quota of 1000 µs per 100 ms period.</summary>
    public const double MinimumCpus = 0.01;

    private const int CpuPeriodMicroseconds = 100_000;
    private const int MinimumCpuQuotaMicroseconds = 1000;
    private const int RemoveAttempts = 100;
    private const int CreateAttempts = 10;

    public CgroupLayout Layout => layout;

    public ICgroupFileSystem FileSystem => fs;

    /// <summary>
    /// The fewest pids under which a box's command starts: with a PID namespace the launcher (unshare or bwrap) and the
    /// namespace's init count against the limit beside the command (measured: 3).
    /// </summary>
    public static int MinimumPids(BoxIsolation isolation) => isolation == BoxIsolation.None ? 1 : 3;

    /// <summary>
    /// The least memory under which a tiny program starts: measured about 0.25 MiB bare and 1.2 MiB through unshare or
    /// bwrap; these minimums leave room above that.
    /// </summary>
    public static long MinimumMemoryBytes(BoxIsolation isolation) => isolation == BoxIsolation.None ? 1L << 20 : 4L << 20;

    /// <summary>The cgroups of a box: at its recorded path when it has one, else where this layout puts them.</summary>
    public BoxCgroup Of(BoxInfo info) => At(IsPathOf(info.Containment, info.Id) ? info.Containment! : layout.CgroupPath(info.Id));

    /// <summary>The cgroups a new box gets from this layout.</summary>
    public BoxCgroup Of(BoxId id) => At(layout.CgroupPath(id));

    /// <summary>Throws for a limit this host cannot enforce, naming the minimum or the missing controller.</summary>
    /// <exception cref="InvalidBoxOptionsException">A limit is below what the kernel enforces or the box needs to start.</exception>
    /// <exception cref="PlatformCapabilityException">A controller the limit needs is not usable here.</exception>
    public void EnsureLimitsSupported(BoxLimits limits, BoxIsolation isolation)
    {
        var problems = new List<string>();
        if (limits.Cpus is { } cpus && CpuQuota(cpus) < MinimumCpuQuotaMicroseconds)
        {
            problems.Add(Invariant($"cpu limit {cpus} is below the {MinimumCpus} CPUs the kernel can enforce (a quota of {MinimumCpuQuotaMicroseconds} µs per {CpuPeriodMicroseconds / 1000} ms)"));
        }

        if (limits.MemoryBytes is { } memory && memory < MinimumMemoryBytes(isolation))
        {
            var minimum = MinimumMemoryBytes(isolation);
            problems.Add(Invariant($"memory limit {memory} bytes is below the {minimum} bytes ({minimum >> 20} MiB) a box with isolation {isolation} needs to start its command"));
        }

        if (limits.PidsMax is { } pids && pids < MinimumPids(isolation))
        {
            problems.Add(Invariant($"pids limit {pids} is below the {MinimumPids(isolation)} a box with isolation {isolation} needs: its launcher and the init of its PID namespace count against it beside the command"));
        }

        if (problems.Count > 0)
        {
            throw new InvalidBoxOptionsException(problems);
        }

        foreach (var controller in CgroupLayout.LimitControllers)
        {
            if (Requests(limits, controller) && layout.Support(controller) is { Backend: LimitBackend.None } support)
            {
                throw new PlatformCapabilityException(
                    $"the {controller} limit cannot be enforced on this host: {support.Detail}",
                    layout.IsRoot
                        ? $"enable the {controller} controller in cgroup v2 (or mount it as v1), or drop the limit"
                        : $"delegate the {controller} controller to this user (systemd: Delegate=yes on user@.service), run as root, or drop the limit");
            }
        }
    }

    /// <summary>
    /// Creates the box's cgroups and writes the limits to the command's. A parent that vanishes meanwhile (its last box
    /// went, in another process) is made again. On any other failure everything created is removed and
    /// <see cref="BoxStartException"/> says what failed.
    /// </summary>
    /// <returns>The monitor's join files (v2) and the command's (v2, then v1).</returns>
    public BoxLaunchPlan Create(BoxId id, BoxLimits limits, BoxIsolation isolation)
    {
        EnsureLimitsSupported(limits, isolation);
        var box = Of(id);
        for (var attempt = 1; ; attempt++)
        {
            var created = new List<string>();
            try
            {
                return CreateIn(box, limits, created);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                for (var i = created.Count - 1; i >= 0; i--)
                {
                    _ = fs.RemoveDirectory(created[i]);
                }

                if (e is CgroupFileSystemException { Errno: Libc.ENOENT } && attempt < CreateAttempts)
                {
                    continue;
                }

                RemoveOwnedParents(box);
                throw new BoxStartException(id, $"cannot set up the box cgroup: {e.Message}", e);
            }
        }
    }

    /// <summary>Pids of the box's cgroups (one read of each <c>cgroup.procs</c>).</summary>
    public List<int> ReadProcesses(BoxCgroup box) => ReadProcessesBelow(box.Directory);

    /// <summary>Pids of <paramref name="dir"/> and every cgroup below it.</summary>
    public List<int> ReadProcessesBelow(string dir)
    {
        var pids = ProcFs.ParsePids(fs.TryRead(Path.Combine(dir, "cgroup.procs")));
        foreach (var child in fs.ListDirectories(dir))
        {
            pids.AddRange(ReadProcessesBelow(Path.Combine(dir, child)));
        }

        return pids;
    }

    /// <summary>
    /// How many processes of the box the kernel's OOM killer killed: the largest <c>oom_kill</c> count in the
    /// <c>memory.events</c> of any of the box's v2 cgroups (hierarchical) or its v1 <c>memory.oom_control</c>. Read it
    /// before the cgroups are removed.
    /// </summary>
    public int ReadOutOfMemoryKills(BoxCgroup box)
    {
        var files = new List<string>();
        CollectDeepestFirst(box.Directory, files);
        files = [.. files.Select(d => Path.Combine(d, "memory.events"))];
        files.AddRange(box.V1Directories.Values.Distinct().Where(fs.Exists).Select(d => Path.Combine(d, "memory.oom_control")));
        return files.Select(f => CgroupEventWaiter.ReadKey(fs.TryRead(f) ?? "", "oom_kill"))
            .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0).Max();
    }

    /// <summary>
    /// Removes the box's cgroups, deepest first, retrying EBUSY a bounded number of times (the kernel releases an
    /// emptied cgroup shortly after its last process is reaped), then its parents if they are the library's own and
    /// empty. Missing directories count as removed.
    /// </summary>
    /// <returns>Null when all are gone, else what could not be removed.</returns>
    public async ValueTask<string?> RemoveAsync(BoxCgroup box, CancellationToken cancellationToken)
    {
        var dirs = new List<string>();
        CollectDeepestFirst(box.Directory, dirs);
        dirs.AddRange(box.V1Directories.Values.Distinct().Where(fs.Exists));
        foreach (var dir in dirs)
        {
            for (var attempt = 0; ; attempt++)
            {
                var errno = fs.RemoveDirectory(dir);
                if (errno is 0 or Libc.ENOENT)
                {
                    break;
                }

                if (errno != Libc.EBUSY || attempt >= RemoveAttempts)
                {
                    return $"rmdir {dir}: {Libc.Describe(errno)}";
                }

                await Task.Delay(attempt < 10 ? 1 : 10, cancellationToken).ConfigureAwait(false);
            }
        }

        RemoveOwnedParents(box);
        return null;
    }

    /// <summary>Removes this layout's box root (v2 and v1) when it is the library's own and empty; returns how many directories went.</summary>
    public int RemoveEmptyParents()
    {
        if (!layout.IsUsable)
        {
            return 0;
        }

        var root = "/" + Path.GetRelativePath(layout.V2Mount!, layout.BoxRoot!);
        return RemoveIfOwnedAndEmpty(layout.V1Mounts.Keys.Select(c => layout.V1Directory(c, root)).Prepend(layout.BoxRoot!));
    }

    private void RemoveOwnedParents(BoxCgroup box) =>
        RemoveIfOwnedAndEmpty(box.V1Directories.Values.Prepend(box.Directory).Select(d => Path.GetDirectoryName(d)!));

    // rmdir fails on a cgroup with children, so an emptiness check cannot race a concurrent create: the kernel decides.
    private int RemoveIfOwnedAndEmpty(IEnumerable<string> parents) =>
        parents.Distinct().Count(p => Path.GetFileName(p).StartsWith(OwnedParentPrefix, StringComparison.Ordinal) && fs.RemoveDirectory(p) == 0);

    private BoxLaunchPlan CreateIn(BoxCgroup box, BoxLimits limits, List<string> created)
    {
        EnsureBoxRoot();
        CreateFresh(box.Directory, created);
        var controllers = CgroupLayout.LimitControllers.Where(c => Requests(limits, c) && layout.Support(c).Backend == LimitBackend.V2).ToList();
        if (controllers.Count > 0)
        {
            fs.Write(Path.Combine(box.Directory, "cgroup.subtree_control"), string.Join(' ', controllers.Select(c => "+" + c)));
        }

        CreateFresh(box.MonitorDirectory, created);
        CreateFresh(box.CommandDirectory, created);
        WriteV2Limits(box.CommandDirectory, limits);

        var commandJoin = new List<string> { Path.Combine(box.CommandDirectory, "cgroup.procs") };
        foreach (var controller in CgroupLayout.LimitControllers)
        {
            if ((Requests(limits, controller) || (controller == "memory" && trackMemoryV1)) && layout.Support(controller).Backend == LimitBackend.V1)
            {
                var dir = box.V1Directories[controller];
                CreateAncestors(layout.V1Mounts[controller], Path.GetDirectoryName(dir)!);
                CreateFresh(dir, created);
                WriteV1Limit(controller, dir, limits);
                commandJoin.Add(Path.Combine(dir, "cgroup.procs"));
            }
        }

        return new BoxLaunchPlan { JoinFiles = [Path.Combine(box.MonitorDirectory, "cgroup.procs")], CommandJoinFiles = commandJoin };
    }

    private BoxCgroup At(string path) =>
        new(layout.V2Directory(path), layout.V1Mounts.Keys.ToDictionary(c => c, c => layout.V1Directory(c, path), StringComparer.Ordinal));

    // A record can only place a box's own cgroup: a plain absolute path ending in its id.
    private static bool IsPathOf(string? path, BoxId id) =>
        path is not null && path.StartsWith('/') && path.EndsWith("/" + id.Value, StringComparison.Ordinal) &&
        path.Split('/').Skip(1).All(s => s.Length > 0 && s != "." && s != "..");

    private void CollectDeepestFirst(string dir, List<string> into)
    {
        if (!fs.Exists(dir))
        {
            return;
        }

        foreach (var child in fs.ListDirectories(dir))
        {
            CollectDeepestFirst(Path.Combine(dir, child), into);
        }

        into.Add(dir);
    }

    private void CreateFresh(string dir, List<string> created)
    {
        if (fs.CreateDirectory(dir))
        {
            created.Add(dir);
        }
        else if (!string.IsNullOrWhiteSpace(fs.TryRead(Path.Combine(dir, "cgroup.procs"))))
        {
            // A leftover of this very id still holds processes; never adopt them silently.
            throw new CgroupFileSystemException("mkdir (exists and holds processes)", dir, Libc.EEXIST);
        }
    }

    /// <summary>Creates the directories from <paramref name="anchor"/> down to <paramref name="target"/>, returning them top-down.</summary>
    private List<string> CreateAncestors(string anchor, string target)
    {
        var levels = new List<string>();
        for (var dir = target; dir.Length > anchor.Length; dir = Path.GetDirectoryName(dir)!)
        {
            levels.Insert(0, dir);
        }

        foreach (var dir in levels)
        {
            _ = fs.CreateDirectory(dir);
        }

        return levels;
    }

    private void EnsureBoxRoot()
    {
        var anchor = layout.AnchorDirectory!;
        var levels = CreateAncestors(anchor, layout.BoxRoot!);

        // Controllers must be enabled in every subtree_control from the anchor down to the box root, so that each box
        // cgroup can enable them for its command.
        var wanted = CgroupLayout.LimitControllers.Where(c => layout.Support(c).Backend == LimitBackend.V2).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        foreach (var dir in levels.Prepend(anchor).ToList())
        {
            var control = Path.Combine(dir, "cgroup.subtree_control");
            var enabled = (fs.TryRead(control) ?? "").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var missing = wanted.Where(c => !enabled.Contains(c)).ToList();
            if (missing.Count > 0)
            {
                fs.Write(control, string.Join(' ', missing.Select(c => "+" + c)));
            }
        }
    }

    private void WriteV2Limits(string dir, BoxLimits limits)
    {
        if (limits.MemoryBytes is { } memory && layout.Support("memory").Backend == LimitBackend.V2)
        {
            fs.Write(Path.Combine(dir, "memory.max"), Invariant(memory));
            var swap = Path.Combine(dir, "memory.swap.max");
            if (fs.Exists(swap))
            {
                // Without this the limit is only on RAM and a box could spill into swap.
                fs.Write(swap, "0");
            }
        }

        if (limits.Cpus is { } cpus && layout.Support("cpu").Backend == LimitBackend.V2)
        {
            fs.Write(Path.Combine(dir, "cpu.max"), $"{Invariant(CpuQuota(cpus))} {Invariant(CpuPeriodMicroseconds)}");
        }

        if (limits.PidsMax is { } pids && layout.Support("pids").Backend == LimitBackend.V2)
        {
            fs.Write(Path.Combine(dir, "pids.max"), Invariant(pids));
        }
    }

    private void WriteV1Limit(string controller, string dir, BoxLimits limits)
    {
        switch (controller)
        {
            case "memory" when limits.MemoryBytes is { } memory:
                fs.Write(Path.Combine(dir, "memory.limit_in_bytes"), Invariant(memory));
                break;
            case "cpu" when limits.Cpus is { } cpus:
                fs.Write(Path.Combine(dir, "cpu.cfs_period_us"), Invariant(CpuPeriodMicroseconds));
                fs.Write(Path.Combine(dir, "cpu.cfs_quota_us"), Invariant(CpuQuota(cpus)));
                break;
            case "pids" when limits.PidsMax is { } pids:
                fs.Write(Path.Combine(dir, "pids.max"), Invariant(pids));
                break;
        }
    }

    private static long CpuQuota(double cpus) => (long)Math.Round(cpus * CpuPeriodMicroseconds);

    private static bool Requests(BoxLimits limits, string controller) => controller switch
    {
        "memory" => limits.MemoryBytes is not null,
        "cpu" => limits.Cpus is not null,
        "pids" => limits.PidsMax is not null,
        _ => false,
    };

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
