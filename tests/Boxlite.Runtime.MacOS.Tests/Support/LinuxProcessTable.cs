using System.Globalization;
using System.Runtime.InteropServices;
using Boxlite.Runtime.MacOS.Interop;
using Boxlite.Runtime.MacOS.Reaping;

namespace Boxlite.Runtime.MacOS.Tests.Support;

/// <summary>The process table of Linux from <c>/proc</c>, so the group sweep runs against real processes here.</summary>
internal sealed class LinuxProcessTable : IProcessTable
{
    private const double TicksPerSecond = 100; // sysconf(_SC_CLK_TCK) on every mainstream Linux

    private static readonly DateTimeOffset BootTime = ReadBootTime();

    public static bool IsAvailable => OperatingSystem.IsLinux() && File.Exists("/proc/self/stat");

    public string BootId { get; } = OperatingSystem.IsLinux() ? File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() : "";

    public ProcessEntry? Get(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The name may hold spaces and parentheses: the fields start after the last ')'. Field 3 is the state, 4 the
        // parent, 5 the process group, 22 the start time in clock ticks since boot.
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ');
        var ticks = long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
        return new ProcessEntry(pid, int.Parse(fields[4 - 3], CultureInfo.InvariantCulture), int.Parse(fields[5 - 3], CultureInfo.InvariantCulture),
            ticks, BootTime.AddSeconds(ticks / TicksPerSecond), stat[(open + 1)..close], fields[0][0]);
    }

    public IReadOnlyList<int> ListGroup(int groupId) => [.. All().Where(e => e.GroupId == groupId).Select(e => e.Pid)];

    public IReadOnlyList<int> ListChildren(int pid) => [.. All().Where(e => e.ParentPid == pid).Select(e => e.Pid)];

    public int Signal(int pid, int signal) => pid <= 1 ? LibSystem.ESRCH : LibSystem.Kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public int SignalGroup(int groupId, int signal) =>
        groupId <= 1 ? LibSystem.ESRCH : LibSystem.Kill(-groupId, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    private IEnumerable<ProcessEntry> All()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Get(pid) is { } entry)
            {
                yield return entry;
            }
        }
    }

    private static DateTimeOffset ReadBootTime()
    {
        if (!OperatingSystem.IsLinux())
        {
            return DateTimeOffset.UnixEpoch;
        }

        var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("btime ", StringComparison.Ordinal));
        return DateTimeOffset.FromUnixTimeSeconds(long.Parse(line[6..], CultureInfo.InvariantCulture));
    }
}
