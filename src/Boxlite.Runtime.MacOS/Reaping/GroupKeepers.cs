using System.Globalization;

namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>A keeper's registration file: which pid keeps which kind of group, written when.</summary>
/// <param name="File">The registration file.</param>
/// <param name="Pid">The keeper's pid (the group's number when <paramref name="LeadsGroup"/>).</param>
/// <param name="LeadsGroup">False when the command ran as a single process (inherited terminal).</param>
/// <param name="WrittenAt">The file's modification time.</param>
internal sealed record KeeperRegistration(string File, int Pid, bool LeadsGroup, DateTimeOffset WrittenAt)
{
    public bool IsBoxKeeper => Path.GetFileName(File) == GroupKeepers.BoxKeeperName;
}

/// <summary>A registered keeper proven to be the process that wrote its registration.</summary>
internal sealed record GroupKeeper(KeeperRegistration Registration, ProcessIdentity Identity)
{
    public int GroupId => Identity.Pid;
}

/// <summary>
/// Finds a box's keepers (<c>&lt;box&gt;/keepers/*.pid</c>: the box command's and one per exec) and proves their
/// identity before anything signals them.
/// </summary>
internal sealed class GroupKeepers(IProcessTable table)
{
    internal const string BoxKeeperName = "box.pid";

    /// <summary>
    /// How far a keeper's start may lie after its registration's time and still count as the writer: file times and
    /// process start times come from different clocks of different precision.
    /// </summary>
    internal static readonly TimeSpan ClockTolerance = TimeSpan.FromSeconds(2);

    public static string DirectoryOf(BoxContext box) => DirectoryOf(box.Directory);

    public static string DirectoryOf(string boxDirectory) => Path.Combine(boxDirectory, "keepers");

    public static string BoxKeeperFile(BoxContext box) => Path.Combine(DirectoryOf(box), BoxKeeperName);

    public static string NewExecKeeperFile(BoxContext box) =>
        Path.Combine(DirectoryOf(box), $"exec-{Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)}.pid");

    /// <summary>Every registration in the box directory (proven or not).</summary>
    public static IReadOnlyList<KeeperRegistration> Registrations(BoxContext box) => Registrations(box.Directory);

    /// <summary>Every registration in <paramref name="boxDirectory"/> (proven or not).</summary>
    public static IReadOnlyList<KeeperRegistration> Registrations(string boxDirectory)
    {
        var directory = DirectoryOf(boxDirectory);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        var found = new List<KeeperRegistration>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.pid"))
        {
            if (TryRead(file) is { } registration)
            {
                found.Add(registration);
            }
        }

        return found;
    }

    /// <summary>
    /// The keepers of the box that are still there (running, or exited and not yet collected by their parent). A pid
    /// counts as the keeper when it is the child of the box's live monitor, or when it started no later than its
    /// registration was written: a live process that existed when the file was written is the one that wrote it,
    /// whereas a recycled pid was born after the keeper died.
    /// </summary>
    public IReadOnlyList<GroupKeeper> Find(BoxContext box)
    {
        var keepers = new List<GroupKeeper>();
        foreach (var registration in Registrations(box))
        {
            if (Prove(registration, box.Info.Monitor) is { } identity)
            {
                keepers.Add(new GroupKeeper(registration, identity));
            }
        }

        return keepers;
    }

    /// <summary>The keeper's identity when <paramref name="registration"/> is proven to be its, else null.</summary>
    public ProcessIdentity? Prove(KeeperRegistration registration, ProcessIdentity? monitor)
    {
        var entry = table.Get(registration.Pid);
        if (entry is null)
        {
            return null;
        }

        var childOfMonitor = registration.IsBoxKeeper && monitor is not null && entry.ParentPid == monitor.Pid &&
                             monitor.BootId == table.BootId && table.Get(monitor.Pid)?.StartTime == monitor.StartTime;
        var predatesRegistration = entry.StartedAt <= registration.WrittenAt + ClockTolerance;
        return childOfMonitor || predatesRegistration ? new ProcessIdentity(entry.Pid, entry.StartTime, table.BootId) : null;
    }

    private static KeeperRegistration? TryRead(string file)
    {
        try
        {
            var text = ControlFile.TryRead(file);
            var info = new FileInfo(file);
            if (text is null || text.Length > 64)
            {
                return null;
            }

            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1 ||
                parts[1] is not ("group" or "single"))
            {
                return null;
            }

            return new KeeperRegistration(file, pid, parts[1] == "group", new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
