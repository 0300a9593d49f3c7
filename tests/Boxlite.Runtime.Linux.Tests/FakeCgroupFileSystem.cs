using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// An in-memory cgroup filesystem: directories, files, and a log of writes. Below <see cref="V2Root"/> it keeps the
/// cgroup v2 rules: a controller's files exist only where the parent enabled it, a cgroup enables controllers for its
/// children only while it holds no process, and a process joins only a cgroup that enables none.
/// </summary>
internal sealed class FakeCgroupFileSystem(string mountInfo, string selfCgroup = "0::/\n") : ICgroupFileSystem
{
    private static readonly Dictionary<string, string[]> ControllerFiles = new()
    {
        ["memory"] = ["memory.max"],
        ["cpu"] = ["cpu.max"],
        ["pids"] = ["pids.max"],
    };

    public HashSet<string> Directories { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Writable { get; } = new(StringComparer.Ordinal);

    public List<(string Path, string Text)> Writes { get; } = [];

    public HashSet<string> FailingWrites { get; } = new(StringComparer.Ordinal);

    public bool AllWritable { get; set; } = true;

    /// <summary>The root of the v2 hierarchy whose rules this fake keeps; null keeps none.</summary>
    public string? V2Root { get; init; }

    /// <summary>Texts that reads of a file return first, one per read, before its own content (a file changing under the reader).</summary>
    public Dictionary<string, Queue<string>> ReadsFirst { get; } = new(StringComparer.Ordinal);

    public string ReadMountInfo() => mountInfo;

    public string ReadSelfCgroup() => selfCgroup;

    public bool Exists(string path) => Directories.Contains(path) || Files.ContainsKey(path);

    public string? TryRead(string path) =>
        ReadsFirst.TryGetValue(path, out var queue) && queue.Count > 0 ? queue.Dequeue() : Files.GetValueOrDefault(path);

    public void Write(string path, string text)
    {
        if (FailingWrites.Contains(path) || !Files.ContainsKey(path))
        {
            throw new CgroupFileSystemException("write", path, Files.ContainsKey(path) ? Libc.EINVAL : Libc.ENOENT);
        }

        var dir = Path.GetDirectoryName(path)!;
        if (IsV2(dir) && Path.GetFileName(path) == "cgroup.subtree_control")
        {
            EnableControllers(dir, text);
        }
        else if (IsV2(dir) && dir != V2Root && Path.GetFileName(path) == "cgroup.procs")
        {
            if (Files[Path.Combine(dir, "cgroup.subtree_control")].Length > 0)
            {
                throw new CgroupFileSystemException("write (no internal processes)", path, Libc.EBUSY);
            }

            Files[path] += text.Trim() + "\n";
        }
        else
        {
            Files[path] = text;
        }

        Writes.Add((path, text));
    }

    public IReadOnlyList<string> ListDirectories(string path) =>
        [.. Directories.Where(d => Path.GetDirectoryName(d) == path).Select(Path.GetFileName).OfType<string>()];

    /// <summary>Directories another process removes right after this fake makes the key directory (once each).</summary>
    public Dictionary<string, string> RemovedAfterCreating { get; } = new(StringComparer.Ordinal);

    public bool CreateDirectory(string path)
    {
        if (Directories.Contains(path))
        {
            return false;
        }

        var parent = Path.GetDirectoryName(path)!;
        if (!Directories.Contains(parent))
        {
            throw new CgroupFileSystemException("mkdir", path, Libc.ENOENT);
        }

        if (!IsWritable(parent))
        {
            throw new CgroupFileSystemException("mkdir", path, Libc.EACCES);
        }

        AddCgroup(path);
        if (RemovedAfterCreating.Remove(path, out var removed))
        {
            RemoveDirectory(removed).Should().Be(0);
        }

        return true;
    }

    public int RemoveDirectory(string path)
    {
        if (!Directories.Contains(path))
        {
            return Libc.ENOENT;
        }

        if (Directories.Any(d => Path.GetDirectoryName(d) == path))
        {
            return Libc.EBUSY;
        }

        Directories.Remove(path);
        foreach (var file in Files.Keys.Where(f => Path.GetDirectoryName(f) == path).ToList())
        {
            Files.Remove(file);
        }

        return 0;
    }

    public bool IsWritable(string path) => AllWritable || Writable.Contains(path);

    /// <summary>Adds a cgroup directory with its interface files (below <see cref="V2Root"/>: those its parent enabled).</summary>
    public void AddCgroup(string path, string controllers = "", bool kill = true, string procs = "")
    {
        Directories.Add(path);
        Files[Path.Combine(path, "cgroup.procs")] = procs;
        Files[Path.Combine(path, "cgroup.controllers")] = controllers;
        Files[Path.Combine(path, "cgroup.subtree_control")] = "";
        Files[Path.Combine(path, "cgroup.events")] = "populated 0\nfrozen 0\n";
        Files[Path.Combine(path, "cgroup.freeze")] = "0";
        if (IsV2(path) && path != V2Root)
        {
            var enabled = Files[Path.Combine(Path.GetDirectoryName(path)!, "cgroup.subtree_control")];
            Files[Path.Combine(path, "cgroup.controllers")] = enabled;
            foreach (var controller in enabled.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                AddControllerFiles(path, controller);
            }
        }
        else if (!IsV2(path))
        {
            foreach (var file in new[] { "memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us", "pids.max" })
            {
                Files[Path.Combine(path, file)] = "max";
            }
        }

        if (kill)
        {
            Files[Path.Combine(path, "cgroup.kill")] = "";
        }
    }

    private bool IsV2(string path) => V2Root is { } root && (path == root || path.StartsWith(root + "/", StringComparison.Ordinal));

    private void EnableControllers(string dir, string text)
    {
        var available = Files[Path.Combine(dir, "cgroup.controllers")].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var enabled = Files[Path.Combine(dir, "cgroup.subtree_control")].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        foreach (var token in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var controller = token[1..];
            if (!available.Contains(controller))
            {
                throw new CgroupFileSystemException("write", Path.Combine(dir, "cgroup.subtree_control"), Libc.ENOENT);
            }

            if (dir != V2Root && Files[Path.Combine(dir, "cgroup.procs")].Length > 0)
            {
                throw new CgroupFileSystemException("write (no internal processes)", Path.Combine(dir, "cgroup.subtree_control"), Libc.EBUSY);
            }

            if (token[0] == '+' && !enabled.Contains(controller))
            {
                enabled.Add(controller);
            }
        }

        Files[Path.Combine(dir, "cgroup.subtree_control")] = string.Join(' ', enabled);
        foreach (var child in ListDirectories(dir).Select(c => Path.Combine(dir, c)))
        {
            Files[Path.Combine(child, "cgroup.controllers")] = string.Join(' ', enabled);
            enabled.ForEach(c => AddControllerFiles(child, c));
        }
    }

    private void AddControllerFiles(string dir, string controller)
    {
        foreach (var file in ControllerFiles.GetValueOrDefault(controller, []))
        {
            Files.TryAdd(Path.Combine(dir, file), "max");
        }
    }

    public const string PureV2 = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

    public const string Hybrid =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

    public const string V1Only =
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";

    public const string NoCgroups = "22 1 0:21 / /proc rw,relatime - proc proc rw\n";

    public const string ReadOnlyV2 = "30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 ro\n";
}
