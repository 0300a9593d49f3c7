using System.Globalization;
using Boxlite.Runtime.Interop;

namespace Boxlite.Runtime.State;

/// <summary>
/// The home directory: one identity (its fully resolved path), trusted only when nobody but its user can change it,
/// and created private (directories 0700, the database 0600, whatever the umask).
/// </summary>
internal static class BoxliteHome
{
    /// <summary>The directory of the box directories inside the home.</summary>
    public const string BoxesDirectoryName = "boxes";

    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The home's identity: the deepest existing ancestor of <paramref name="homeDirectory"/> resolved like
    /// <c>realpath(3)</c>, the rest normalized (<c>.</c>, <c>..</c>, repeated and trailing slashes). The same before
    /// and after the home is created, and the same for <c>$H</c>, <c>$H/</c>, <c>$H/./</c> or a symbolic link to it.
    /// </summary>
    public static string Resolve(string homeDirectory)
    {
        if (string.IsNullOrEmpty(homeDirectory))
        {
            return homeDirectory;
        }

        if (!PosixFiles.IsSupported)
        {
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(homeDirectory));
        }

        // Relative to the current directory as written: ".." after a symbolic link leaves the link's target.
        var parts = Path.Combine(Environment.CurrentDirectory, homeDirectory).Split('/', StringSplitOptions.RemoveEmptyEntries);
        var existing = parts.Length;
        string? resolved;
        while ((resolved = PosixFiles.RealPath("/" + string.Join('/', parts, 0, existing))) is null && existing > 0)
        {
            existing--;
        }

        resolved ??= "/";
        foreach (var part in parts.Skip(existing))
        {
            resolved = part switch
            {
                "." => resolved,
                ".." => Path.GetDirectoryName(resolved) ?? "/",
                _ => Path.Join(resolved, part),
            };
        }

        return resolved;
    }

    /// <summary>
    /// Checks that the home at the resolved path <paramref name="home"/> is safe to use, creates it and its
    /// <c>boxes</c> directory (0700) when missing, and checks again. Nothing is created in an unsafe home.
    /// </summary>
    /// <exception cref="PlatformCapabilityException">The home, its <c>boxes</c>, its database or an ancestor could be
    /// changed by another user, or is a symbolic link.</exception>
    /// <exception cref="IOException">The home cannot be created or inspected.</exception>
    /// <exception cref="UnauthorizedAccessException">The home cannot be created.</exception>
    public static void Prepare(string home)
    {
        var boxes = Path.Combine(home, BoxesDirectoryName);
        if (!PosixFiles.IsSupported)
        {
            Directory.CreateDirectory(boxes);
            return;
        }

        Check(home);
        CreatePrivateDirectory(home);
        CreatePrivateDirectory(boxes);
        Check(home);
    }

    /// <summary>Creates a directory 0700 whatever the umask (its missing parents too); an existing one is left as it is.</summary>
    public static void CreatePrivateDirectory(string path)
    {
        if (!PosixFiles.IsSupported)
        {
            Directory.CreateDirectory(path);
            return;
        }

        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(path, PrivateDirectory);
            File.SetUnixFileMode(path, PrivateDirectory);
        }
    }

    /// <summary>
    /// Makes the database file 0600 before SQLite opens it: created empty when missing (SQLite gives its -wal and -shm
    /// the mode of the database), tightened when an earlier version left it readable by others.
    /// </summary>
    public static void PrepareDatabase(string databasePath)
    {
        if (!PosixFiles.IsSupported)
        {
            return;
        }

        try
        {
            new FileStream(databasePath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile }).Dispose();
        }
        catch (IOException) when (File.Exists(databasePath) || Directory.Exists(databasePath))
        {
            // Already there; Check vouched for its owner. A directory is left for SQLite to refuse.
        }

        foreach (var file in DatabaseFiles(databasePath))
        {
            if (PosixFiles.LStat(file) is { IsDirectory: false } status && (status.Mode & 0x1FF) != (uint)PrivateFile)
            {
                File.SetUnixFileMode(file, PrivateFile);
            }
        }
    }

    private static IEnumerable<string> DatabaseFiles(string databasePath) =>
        [databasePath, databasePath + "-wal", databasePath + "-shm"];

    /// <summary>
    /// Like ssh's StrictModes: every ancestor is owned by root or this user and not writable by others unless sticky;
    /// the home and <c>boxes</c> are directories of this user, the database files are this user's; none writable by
    /// group or others, none a symbolic link. Missing pieces are fine (they are created afterwards).
    /// </summary>
    private static void Check(string home)
    {
        var me = PosixFiles.EffectiveUserId;
        for (var ancestor = Path.GetDirectoryName(home); ancestor is not null; ancestor = Path.GetDirectoryName(ancestor))
        {
            if (PosixFiles.LStat(ancestor) is not { IsDirectory: true } status)
            {
                continue;
            }

            if (status.Owner != 0 && status.Owner != me)
            {
                throw Unsafe(home, $"its parent directory {ancestor} is owned by uid {status.Owner}, who could replace the home",
                    "keep the home under directories owned by you or root");
            }

            if (status.IsWritableByOthers && !status.IsSticky)
            {
                throw Unsafe(home, $"its parent directory {ancestor} is writable by group or others (mode {status.Permissions}), who could replace the home",
                    $"chmod go-w {ancestor}, or keep the home elsewhere");
            }
        }

        var boxes = Path.Combine(home, BoxesDirectoryName);
        var database = Path.Combine(home, SqliteBoxStore.FileName);
        foreach (var (path, what) in new[] { (home, "the home"), (boxes, "the boxes directory") }
                     .Concat(DatabaseFiles(database).Select(f => (f, "the database file"))))
        {
            if (PosixFiles.LStat(path) is not { } status)
            {
                continue;
            }

            if (status.IsSymbolicLink)
            {
                throw Unsafe(home, $"{what} {path} is a symbolic link",
                    path == home ? "name the home by its real path" : $"remove {path} (Boxlite creates it), or use another home");
            }

            if (status.Owner != me)
            {
                throw Unsafe(home, $"{what} {path} is owned by uid {status.Owner}, not by this user (uid {me})",
                    "use a home of your own, or chown it to this user");
            }

            if (status.IsWritableByOthers)
            {
                throw Unsafe(home, $"{what} {path} is writable by group or others (mode {status.Permissions})",
                    $"chmod go-w {path}");
            }
        }
    }

    private static PlatformCapabilityException Unsafe(string home, string why, string fix) =>
        new(string.Create(CultureInfo.InvariantCulture, $"the Boxlite home {home} is not safe to use: {why}"), fix);
}
