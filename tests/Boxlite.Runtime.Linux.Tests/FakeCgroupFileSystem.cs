using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>An in-memory cgroup filesystem: directories, files, and a log of writes.</summary>
internal sealed class FakeCgroupFileSystem(string mountInfo, string selfCgroup = "0::/\n") : ICgroupFileSystem
{
    public HashSet<string> Directories { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Writable { get; } = new(StringComparer.Ordinal);

    public List<(string Path, string Text)> Writes { get; } = [];

    public HashSet<string> FailingWrites { get; } = new(StringComparer.Ordinal);

    public bool AllWritable { get; set; } = true;

    public string ReadMountInfo() => mountInfo;

    public string ReadSelfCgroup() => selfCgroup;

    public bool Exists(string path) => Directories.Contains(path) || Files.ContainsKey(path);

    public string? TryRead(string path) => Files.GetValueOrDefault(path);

    public void Write(string path, string text)
    {
        if (FailingWrites.Contains(path) || !Files.ContainsKey(path))
        {
            throw new CgroupFileSystemException("write", path, Files.ContainsKey(path) ? Libc.EINVAL : Libc.ENOENT);
        }

        Writes.Add((path, text));
        Files[path] = text;
    }

    public IReadOnlyList<string> ListDirectories(string path) =>
        [.. Directories.Where(d => Path.GetDirectoryName(d) == path).Select(Path.GetFileName).OfType<string>()];

    public bool CreateDirectory(string path)
    {
        if (Directories.Contains(path))
        {
            return false;
        }

        if (!IsWritable(Path.GetDirectoryName(path)!))
        {
            throw new CgroupFileSystemException("mkdir", path, Libc.EACCES);
        }

        AddCgroup(path);
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

    /// <summary>Adds a v2 cgroup directory with its interface files.</summary>
    public void AddCgroup(string path, string controllers = "", bool kill = true, string procs = "")
    {
        Directories.Add(path);
        Files[Path.Combine(path, "cgroup.procs")] = procs;
        Files[Path.Combine(path, "cgroup.controllers")] = controllers;
        Files[Path.Combine(path, "cgroup.subtree_control")] = "";
        Files[Path.Combine(path, "cgroup.events")] = "populated 0\nfrozen 0\n";
        Files[Path.Combine(path, "cgroup.freeze")] = "0";
        foreach (var file in new[] { "memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us", "pids.max" })
        {
            Files[Path.Combine(path, file)] = "max";
        }

        if (kill)
        {
            Files[Path.Combine(path, "cgroup.kill")] = "";
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
