using System.Globalization;

namespace Boxlite.Cli.Tests;

/// <summary>What is really running: processes found by a marker in their command line, and the cgroup they live in.</summary>
internal static class HostProcesses
{
    /// <summary>A number no other process has in its command line (e.g. as <c>sleep MARKER</c>).</summary>
    public static string NewMarker() => (300_000_000 + Random.Shared.Next(100_000_000)).ToString(CultureInfo.InvariantCulture);

    /// <summary>Live processes whose command line has <paramref name="marker"/> as one of its words.</summary>
    public static List<int> WithMarker(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Read(Path.Combine(dir, "cmdline")) is { } cmdline &&
                cmdline.Split('\0').Contains(marker))
            {
                found.Add(pid);
            }
        }

        return found;
    }

    /// <summary>The cgroup v2 directory of box <paramref name="id"/> that holds <paramref name="pid"/>, or null when it is gone.</summary>
    public static string? BoxCgroupOf(int pid, string id)
    {
        var line = Read($"/proc/{pid}/cgroup")?.Split('\n').FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal));
        for (var dir = line is null ? null : UnifiedMount + line[3..]; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Path.GetFileName(dir) == id)
            {
                return dir;
            }
        }

        return null;
    }

    private static string UnifiedMount =>
        File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(" - ")).Where(h => h.Length == 2 && h[1].StartsWith("cgroup2 ", StringComparison.Ordinal))
            .Select(h => h[0].Split(' ')[4]).First();

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
