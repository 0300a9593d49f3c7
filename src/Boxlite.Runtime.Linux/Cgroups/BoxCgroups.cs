using System.Globalization;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>
/// The cgroups of boxes: <c>&lt;root&gt;/&lt;id&gt;</c> holds the monitor and its log readers, <c>&lt;id&gt;/cmd</c> the
/// command's tree (so the command's rest can be killed without the monitor), plus v1 counterparts on hybrid hosts
/// for the limits the v2 hierarchy cannot hold. No controller is enabled below the box cgroup, so both may hold
/// processes; limits sit on the box cgroup and cover both.
/// </summary>
internal sealed class BoxCgroups(CgroupLayout layout, ICgroupFileSystem fs, bool trackMemoryV1 = true)
{
    /// <summary>Name of the command's sub-cgroup.</summary>
    public const string CommandCgroup = "cmd";

    private const int CpuPeriodMicroseconds = 100_000;
    private const int RemoveAttempts = 100;

    public CgroupLayout Layout => layout;

    public ICgroupFileSystem FileSystem => fs;

    public string BoxDirectory(BoxId id) => layout.BoxDirectory(id);

    public string CommandDirectory(BoxId id) => Path.Combine(layout.BoxDirectory(id), CommandCgroup);

    /// <summary>The v1 directories a box of these limits gets, by controller.</summary>
    public IReadOnlyList<(string Controller, string Directory)> V1Directories(BoxId id, BoxLimits limits)
    {
        var dirs = new List<(string, string)>();
        foreach (var controller in CgroupLayout.LimitControllers)
        {
            var wanted = Requests(limits, controller) || (controller == "memory" && trackMemoryV1);
            if (wanted && layout.Support(controller).Backend == LimitBackend.V1)
            {
                dirs.Add((controller, layout.V1BoxDirectory(controller, id)));
            }
        }

        return dirs;
    }

    /// <summary>v1 directories of a box that exist now (whatever limits it was created with).</summary>
    public IEnumerable<string> ExistingV1Directories(BoxId id) =>
        layout.V1Mounts.Keys.Select(c => layout.V1BoxDirectory(c, id)).Where(fs.Exists);

    /// <summary>Throws <see cref="PlatformCapabilityException"/> for a limit this host cannot enforce.</summary>
    public void EnsureLimitsSupported(BoxLimits limits)
    {
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
    /// Creates the box cgroup, its command sub-cgroup and its v1 counterparts, and writes the limits. On any failure
    /// everything created is removed and <see cref="BoxStartException"/> says what failed.
    /// </summary>
    /// <returns>The files a process writes its pid into to join the box (v2 first).</returns>
    public IReadOnlyList<string> Create(BoxId id, BoxLimits limits)
    {
        EnsureLimitsSupported(limits);
        var created = new List<string>();
        try
        {
            EnsureBoxRoot();
            var dir = BoxDirectory(id);
            CreateFresh(dir, created);
            CreateFresh(CommandDirectory(id), created);
            WriteV2Limits(dir, limits);

            var join = new List<string> { Path.Combine(dir, "cgroup.procs") };
            foreach (var (controller, v1Dir) in V1Directories(id, limits))
            {
                var parent = Path.GetDirectoryName(v1Dir)!;
                CreateAncestors(V1MountOf(controller), parent);
                CreateFresh(v1Dir, created);
                WriteV1Limit(controller, v1Dir, limits);
                join.Add(Path.Combine(v1Dir, "cgroup.procs"));
            }

            return join;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            for (var i = created.Count - 1; i >= 0; i--)
            {
                _ = fs.RemoveDirectory(created[i]);
            }

            throw new BoxStartException(id, $"cannot set up the box cgroup: {e.Message}", e);
        }
    }

    /// <summary>Pids of the box cgroup and every cgroup below it (one read of each <c>cgroup.procs</c>).</summary>
    public List<int> ReadProcesses(BoxId id) => ReadProcessesBelow(BoxDirectory(id));

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
    public int ReadOutOfMemoryKills(BoxId id)
    {
        var files = new List<string>();
        CollectDeepestFirst(BoxDirectory(id), files);
        files = [.. files.Select(d => Path.Combine(d, "memory.events"))];
        files.AddRange(ExistingV1Directories(id).Select(d => Path.Combine(d, "memory.oom_control")));
        return files.Select(f => CgroupEventWaiter.ReadKey(fs.TryRead(f) ?? "", "oom_kill"))
            .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0).Max();
    }

    /// <summary>
    /// Removes the box's cgroups, deepest first, retrying EBUSY a bounded number of times (the kernel releases an
    /// emptied cgroup shortly after its last process is reaped). Missing directories count as removed.
    /// </summary>
    /// <returns>Null when all are gone, else what could not be removed.</returns>
    public async ValueTask<string?> RemoveAsync(BoxId id, CancellationToken cancellationToken)
    {
        var dirs = new List<string>();
        CollectDeepestFirst(BoxDirectory(id), dirs);
        dirs.AddRange(ExistingV1Directories(id));
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

        return null;
    }

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
        // cgroup has them; the box cgroup itself enables none.
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

    private string V1MountOf(string controller) => layout.V1Mounts[controller];

    private static long CpuQuota(double cpus) => Math.Max(1000, (long)Math.Round(cpus * CpuPeriodMicroseconds));

    private static bool Requests(BoxLimits limits, string controller) => controller switch
    {
        "memory" => limits.MemoryBytes is not null,
        "cpu" => limits.Cpus is not null,
        "pids" => limits.PidsMax is not null,
        _ => false,
    };

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
