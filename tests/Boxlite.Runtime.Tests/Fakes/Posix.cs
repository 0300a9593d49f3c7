using System.Globalization;
using System.Runtime.InteropServices;

namespace Boxlite.Runtime.Tests.Fakes;

/// <summary>The few POSIX facts the fake platform needs, read from /proc.</summary>
internal static partial class Posix
{
    public const int SIGKILL = 9;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    public static readonly string BootId = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();

    /// <summary>Start time (field 22) and process group (field 5) of a pid, or null when it is gone.</summary>
    public static (long StartTime, int Pgrp, char State)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }

        // Fields after the command name, which may itself contain spaces and parentheses.
        var rest = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(rest[19], CultureInfo.InvariantCulture), int.Parse(rest[2], CultureInfo.InvariantCulture), rest[0][0]);
    }

    public static IEnumerable<int> GroupMembers(int pgrp)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } s && s.Pgrp == pgrp && s.State != 'Z')
            {
                yield return pid;
            }
        }
    }

    public static string Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
