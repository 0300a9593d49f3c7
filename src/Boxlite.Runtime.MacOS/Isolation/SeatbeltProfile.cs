using System.Text;

namespace Boxlite.Runtime.MacOS.Isolation;

/// <summary>What a box's generated seatbelt profile allows. Paths are as given; the generator canonicalizes them.</summary>
internal sealed record SeatbeltPolicy
{
    /// <summary>The box's work directory: readable and writable (the rest of the box directory is neither).</summary>
    public required string WorkDirectory { get; init; }

    /// <summary>The box's temp directory: readable and writable.</summary>
    public required string TempDirectory { get; init; }

    /// <summary>More read-only paths (the command, the working directory, configured extras).</summary>
    public IReadOnlyList<string> ReadPaths { get; init; } = [];

    /// <summary>More writable paths (configured extras).</summary>
    public IReadOnlyList<string> WritePaths { get; init; } = [];

    /// <summary>Whether the box may use the network.</summary>
    public bool AllowNetwork { get; init; }
}

/// <summary>
/// Generates a seatbelt (SBPL) profile: deny by default, then what an ordinary command needs, the box's own
/// directories, and the network when allowed. Every path is canonicalized (seatbelt matches the path the kernel sees)
/// and emitted as a quoted string, so no path can add profile syntax.
/// </summary>
internal static class SeatbeltProfile
{
    /// <summary>System locations an ordinary command reads: binaries, libraries, frameworks, configuration.</summary>
    internal static readonly string[] SystemReadSubpaths =
    [
        "/Applications/Xcode.app", "/Library", "/System", "/bin", "/opt", "/private/etc", "/private/var/db/dyld",
        "/private/var/db/timezone", "/private/var/select", "/sbin", "/usr",
    ];

    /// <summary>Devices an ordinary command reads (never the disks).</summary>
    internal static readonly string[] DeviceReadLiterals = ["/dev/null", "/dev/random", "/dev/tty", "/dev/urandom", "/dev/zero"];

    /// <summary>Devices an ordinary command writes.</summary>
    internal static readonly string[] DeviceWriteLiterals = ["/dev/dtracehelper", "/dev/null", "/dev/tty", "/dev/zero"];

    public static string Generate(SeatbeltPolicy policy, IPathCanonicalizer canonicalizer)
    {
        string Canonical(string path) => canonicalizer.Canonicalize(path);

        var text = new StringBuilder();
        text.Append("""
            (version 1)
            (deny default)

            ; Processes: run and fork; signal and inspect only processes of this sandbox.
            (allow process-exec)
            (allow process-fork)
            (allow signal (target same-sandbox))
            (allow process-info* (target same-sandbox))

            ; What an ordinary command needs: stat of any path (path resolution walks the tree), the system read-only,
            ; a few devices, system information, user and group lookups, logging.
            (allow file-read-metadata)

            """);
        Rule(text, "file-read*", [Filter("literal", "/"), .. SystemReadSubpaths.Select(p => Filter("subpath", p)),
            Filter("subpath", "/dev/fd"), .. DeviceReadLiterals.Select(p => Filter("literal", p))]);
        Rule(text, "file-write-data", [.. DeviceWriteLiterals.Select(p => Filter("literal", p))]);
        text.Append("""
            (allow file-ioctl (literal "/dev/dtracehelper") (literal "/dev/tty"))
            (allow sysctl-read)
            (allow user-preference-read)
            (allow mach-lookup
              (global-name "com.apple.system.logger")
              (global-name "com.apple.system.notification_center")
              (global-name "com.apple.system.opendirectoryd.libinfo")
              (global-name "com.apple.system.opendirectoryd.membership"))
            (allow ipc-posix-shm-read-data (ipc-posix-name "apple.shm.notification_center"))

            """);

        if (policy.ReadPaths.Count > 0)
        {
            text.Append("\n; Read-only: the command, the working directory and configured paths.\n");
            Rule(text, "file-read*", [.. policy.ReadPaths.Select(p => Filter("subpath", Canonical(p))).Distinct()]);
        }

        text.Append("\n; The box: its work directory and its temp are readable and writable; its control files are neither.\n");
        Rule(text, "file-read* file-write*", [Filter("subpath", Canonical(policy.WorkDirectory)), Filter("subpath", Canonical(policy.TempDirectory)),
            .. policy.WritePaths.Select(p => Filter("subpath", Canonical(p)))]);

        if (policy.AllowNetwork)
        {
            text.Append("""

                ; Network: allowed, with name resolution and certificate checks.
                (allow network*)
                (allow system-socket)
                (allow file-read* (literal "/private/var/run/resolv.conf"))
                (allow mach-lookup
                  (global-name "com.apple.SystemConfiguration.configd")
                  (global-name "com.apple.dnssd.service")
                  (global-name "com.apple.trustd.agent"))

                """);
        }
        else
        {
            text.Append("\n; Network: none (denied by default).\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// An SBPL string literal. Backslash and double quote are escaped, so the value can never close the string; control
    /// characters are refused, because a profile line with them cannot be read back reliably.
    /// </summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"'{value.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a control character, which a seatbelt profile cannot express safely", nameof(value));
            }

            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }

    private static string Filter(string kind, string path) => $"({kind} {Quote(path)})";

    private static void Rule(StringBuilder text, string operations, IReadOnlyList<string> filters, bool allow = true)
    {
        text.Append(allow ? "(allow " : "(deny ").Append(operations);
        foreach (var filter in filters)
        {
            text.Append("\n  ").Append(filter);
        }

        text.Append(")\n");
    }
}
