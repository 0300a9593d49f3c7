using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>Finds the cgroup hierarchies from <c>/proc/self/mountinfo</c> and decides where box cgroups live.</summary>
internal static class CgroupDiscovery
{
    private sealed record Mount(string Root, string Point, string FileSystem, bool ReadOnly, string[] SuperOptions);

    /// <summary>Discovers the layout through <paramref name="fs"/>.</summary>
    /// <param name="fs">The filesystem.</param>
    /// <param name="parent">The configured cgroup parent (relative path).</param>
    /// <param name="isRoot">Whether the process runs as root.</param>
    /// <param name="kernelRelease">The kernel release (e.g. <c>6.1.0</c>), used only when no cgroup can be inspected.</param>
    public static CgroupLayout Discover(ICgroupFileSystem fs, string parent, bool isRoot, Version? kernelRelease = null)
    {
        var mounts = ParseMountInfo(fs.ReadMountInfo());
        var v2 = mounts.Where(m => m.FileSystem == "cgroup2")
            .OrderBy(m => m.Point switch { "/sys/fs/cgroup" => 0, "/sys/fs/cgroup/unified" => 1, _ => 2 })
            .FirstOrDefault();
        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in mounts.Where(m => m.FileSystem == "cgroup" && !m.ReadOnly))
        {
            foreach (var controller in CgroupLayout.LimitControllers)
            {
                if (m.SuperOptions.Contains(controller))
                {
                    v1.TryAdd(controller, m.Point);
                }
            }
        }

        if (v2 is null)
        {
            return new CgroupLayout
            {
                V1Mounts = v1, Parent = parent, IsRoot = isRoot,
                BoxRootDetail = v1.Count > 0
                    ? "only cgroup v1 is mounted; box containment needs cgroup v2"
                    : "no cgroup filesystem is mounted",
            };
        }

        var (anchor, boxRoot, detail, delegated) = ChooseBoxRoot(fs, v2, parent, isRoot);
        var controllers = anchor is null
            ? new HashSet<string>(StringComparer.Ordinal)
            : new HashSet<string>((fs.TryRead(Path.Combine(anchor, "cgroup.controllers")) ?? "")
                .Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        var anchorHasProcesses = anchor is not null && anchor != v2.Point &&
            !string.IsNullOrWhiteSpace(fs.TryRead(Path.Combine(anchor, "cgroup.procs")));

        var (hasKill, hasFreeze) = ProbeInterfaceFiles(fs, v2.Point, boxRoot, anchor, kernelRelease);
        return new CgroupLayout
        {
            V2Mount = v2.Point,
            V2ReadOnly = v2.ReadOnly,
            V1Mounts = v1,
            BoxRoot = boxRoot,
            AnchorDirectory = anchor,
            BoxRootDetail = detail,
            Parent = parent,
            V2Controllers = controllers,
            AnchorHasProcesses = anchorHasProcesses,
            HasKill = hasKill,
            HasFreeze = hasFreeze,
            IsDelegated = delegated,
            IsRoot = isRoot,
        };
    }

    /// <summary>The running kernel's version (<c>/proc/sys/kernel/osrelease</c>), or null.</summary>
    public static Version? RunningKernel()
    {
        var release = ProcFs.TryRead("/proc/sys/kernel/osrelease") ?? "";
        var numeric = new string([.. release.TakeWhile(c => char.IsAsciiDigit(c) || c == '.')]).TrimEnd('.');
        return Version.TryParse(!numeric.Contains('.', StringComparison.Ordinal) ? numeric + ".0" : numeric, out var v) ? v : null;
    }

    private static (string? Anchor, string? BoxRoot, string Detail, bool Delegated) ChooseBoxRoot(
        ICgroupFileSystem fs, Mount v2, string parent, bool isRoot)
    {
        if (v2.ReadOnly)
        {
            return (null, null, $"the cgroup v2 hierarchy at {v2.Point} is mounted read-only", false);
        }

        if (isRoot)
        {
            var existing = Path.Combine(v2.Point, parent);
            if (!fs.IsWritable(v2.Point) || (fs.Exists(existing) && !fs.IsWritable(existing)))
            {
                return (null, null, $"{v2.Point} is not writable", false);
            }

            return (v2.Point, existing, $"{existing} (root)", false);
        }

        // Non-root: the subtree systemd delegated to us (user@UID.service) is the topmost writable ancestor of our cgroup.
        var self = CgroupOfSelf(fs.ReadSelfCgroup(), v2);
        if (self is null)
        {
            return (null, null, "this process's cgroup v2 path is unknown (/proc/self/cgroup has no 0:: line)", false);
        }

        string? delegation = null;
        for (var dir = self; dir.Length > v2.Point.Length && fs.IsWritable(dir) && fs.IsWritable(Path.Combine(dir, "cgroup.procs"));
             dir = Path.GetDirectoryName(dir)!)
        {
            delegation = dir;
        }

        if (delegation is null)
        {
            return (null, null, $"no delegated cgroup: {self} is not writable by this user", false);
        }

        // Never move this process: boxes go in a new child of the delegated subtree, beside (or below) our own cgroup.
        return (delegation, Path.Combine(delegation, parent), $"{Path.Combine(delegation, parent)} (delegated subtree)", true);
    }

    private static string? CgroupOfSelf(string selfCgroup, Mount v2)
    {
        foreach (var line in selfCgroup.Split('\n'))
        {
            if (line.StartsWith("0::", StringComparison.Ordinal))
            {
                var path = line[3..].Trim();
                if (v2.Root != "/" && path.StartsWith(v2.Root, StringComparison.Ordinal))
                {
                    path = path[v2.Root.Length..];
                }

                return (v2.Point.TrimEnd('/') + "/" + path.TrimStart('/')).TrimEnd('/');
            }
        }

        return null;
    }

    private static (bool Kill, bool Freeze) ProbeInterfaceFiles(
        ICgroupFileSystem fs, string mount, string? boxRoot, string? anchor, Version? kernel)
    {
        // The root cgroup has neither file; look at any non-root cgroup.
        var candidates = new List<string>();
        if (boxRoot is not null)
        {
            candidates.Add(boxRoot);
        }

        if (anchor is not null && anchor != mount)
        {
            candidates.Add(anchor);
        }

        candidates.AddRange(fs.ListDirectories(mount).Take(3).Select(d => Path.Combine(mount, d)));
        foreach (var dir in candidates)
        {
            if (fs.Exists(Path.Combine(dir, "cgroup.events")))
            {
                return (fs.Exists(Path.Combine(dir, "cgroup.kill")), fs.Exists(Path.Combine(dir, "cgroup.freeze")));
            }
        }

        return kernel is null ? (false, false) : (kernel >= new Version(5, 14), kernel >= new Version(5, 2));
    }

    private static List<Mount> ParseMountInfo(string text)
    {
        var mounts = new List<Mount>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root point options [optional...] - fstype source superoptions
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length < 7 || dash < 6 || dash + 3 > fields.Length)
            {
                continue;
            }

            var fsType = fields[dash + 1];
            if (fsType is not ("cgroup" or "cgroup2"))
            {
                continue;
            }

            var readOnly = fields[5].Split(',').Contains("ro") || fields[dash + 3].Split(',').Contains("ro");
            mounts.Add(new Mount(Unescape(fields[3]), Unescape(fields[4]), fsType, readOnly, fields[dash + 3].Split(',')));
        }

        return mounts;
    }

    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
