namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// The cgroups of one test, all under its own parent (<c>boxlite-…test-&lt;random&gt;</c>) in every cgroup hierarchy.
/// Removing them kills what is left inside (<c>cgroup.kill</c> of those cgroups only), so a failed test leaves nothing
/// running, then removes them deepest first.
/// </summary>
internal static class TestCgroups
{
    /// <summary>The parent's directory in every cgroup hierarchy where it exists (v2 and v1).</summary>
    public static List<string> ParentDirectories(string parent) =>
        [.. Mounts().Select(m => Path.Combine(m.Point, parent)).Where(Directory.Exists)];

    /// <summary>The cgroup hierarchies mounted here, from /proc/self/mountinfo.</summary>
    public static IEnumerable<(string Point, bool V2)> Mounts()
    {
        foreach (var line in File.Exists("/proc/self/mountinfo") ? File.ReadLines("/proc/self/mountinfo") : [])
        {
            var halves = line.Split(" - ");
            if (halves.Length == 2 && halves[1].StartsWith("cgroup", StringComparison.Ordinal))
            {
                yield return (line.Split(' ')[4], halves[1].StartsWith("cgroup2 ", StringComparison.Ordinal));
            }
        }
    }

    /// <summary>Kills whatever is left under the parent and removes every directory of it; throws if one stays.</summary>
    public static void Remove(string parent) => Remove(ParentDirectories(parent));

    /// <summary>Kills whatever is left under these directories of a parent and removes them; throws if one stays.</summary>
    public static void Remove(IReadOnlyList<string> parentDirectories)
    {
        var deepestFirst = parentDirectories
            .SelectMany(root => Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).Append(root))
            .OrderByDescending(d => d.Count(c => c == '/')).ToList();
        foreach (var kill in deepestFirst.Select(d => Path.Combine(d, "cgroup.kill")).Where(File.Exists))
        {
            File.WriteAllText(kill, "1");
        }

        foreach (var dir in deepestFirst)
        {
            // The kernel frees a cgroup shortly after its last process is reaped.
            for (var attempt = 0; Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException) when (attempt < 500)
                {
                    Thread.Sleep(10);
                }
            }
        }
    }
}
