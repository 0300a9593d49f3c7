using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// A frozen cgroup-v1 freezer cgroup under a test's own parent (<c>&lt;freezer&gt;/&lt;parent&gt;/stuck</c>): a task held in it
/// sleeps uninterruptibly (state D) and not even SIGKILL finishes it until it is thawed, so a reap cannot confirm the
/// box gone in time. Disposing thaws (the pending kill then lands), waits for the held task to go, and removes the cgroup.
/// </summary>
internal sealed class V1Freezer : IDisposable
{
    private readonly string _directory;
    private readonly List<int> _held = [];

    private V1Freezer(string directory) => _directory = directory;

    /// <summary>The v1 freezer mount, or null when this host has none (pure cgroup v2).</summary>
    public static string? Mount { get; } = File.ReadLines("/proc/self/mountinfo")
        .Select(l => l.Split(" - "))
        .Where(h => h.Length == 2 && h[1].StartsWith("cgroup ", StringComparison.Ordinal) && h[1].Split(' ')[2].Split(',').Contains("freezer"))
        .Select(h => h[0].Split(' ')[4])
        .FirstOrDefault();

    public const string SkipReason = "needs a cgroup v1 freezer hierarchy (a hybrid host) to hold a process that SIGKILL cannot finish";

    public static V1Freezer Create(string cgroupParent)
    {
        var dir = Path.Combine(Mount ?? throw new InvalidOperationException(SkipReason), cgroupParent, "stuck");
        Directory.CreateDirectory(dir);
        return new V1Freezer(dir);
    }

    /// <summary>Moves <paramref name="pid"/> (a process of the test's own box) into the cgroup and freezes it.</summary>
    public async Task HoldAsync(int pid)
    {
        File.WriteAllText(Path.Combine(_directory, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _held.Add(pid);
        File.WriteAllText(Path.Combine(_directory, "freezer.state"), "FROZEN");
        (await LinuxHome.EventuallyAsync(() => File.ReadAllText(Path.Combine(_directory, "freezer.state")).Trim() == "FROZEN", TimeSpan.FromSeconds(30)))
            .Should().BeTrue("the v1 freezer freezes its task");
    }

    /// <summary>Thaws the cgroup.</summary>
    public void Release() => File.WriteAllText(Path.Combine(_directory, "freezer.state"), "THAWED");

    public void Dispose()
    {
        if (!Directory.Exists(_directory))
        {
            return;
        }

        Release();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (_held.Any(p => ProcFs.TryReadStat(p) is { IsDead: false }) && DateTime.UtcNow < until)
        {
            Thread.Sleep(10);
        }

        // Whatever is still held was the box's and is ours to end; then the cgroup is empty and goes.
        foreach (var pid in ProcFs.ParsePids(File.ReadAllText(Path.Combine(_directory, "cgroup.procs"))))
        {
            _ = Interop.Libc.kill(pid, Interop.LinuxSignals.Kill);
        }

        for (var attempt = 0; attempt < 100 && Directory.Exists(_directory); attempt++)
        {
            try
            {
                Directory.Delete(_directory);
            }
            catch (IOException)
            {
                Thread.Sleep(10);
            }
        }
    }
}
