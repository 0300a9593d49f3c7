using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Isolation;

/// <summary>
/// Absolute paths of the external tools boxes use, located once in the system directories (never through the
/// caller's <c>PATH</c>). Null when missing.
/// </summary>
/// <param name="Shell">POSIX <c>sh</c>.</param>
/// <param name="Setpriv">util-linux <c>setpriv</c>.</param>
/// <param name="Unshare">util-linux <c>unshare</c>.</param>
/// <param name="Nsenter">util-linux <c>nsenter</c>.</param>
/// <param name="Bwrap">bubblewrap's <c>bwrap</c>.</param>
internal sealed record LinuxTools(string? Shell, string? Setpriv, string? Unshare, string? Nsenter, string? Bwrap)
{
    private static readonly string[] SearchDirectories = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];

    /// <summary>The tools of this host.</summary>
    public static LinuxTools Locate() =>
        new(Find("sh"), Find("setpriv"), Find("unshare"), Find("nsenter"), Find("bwrap"));

    /// <summary>The path of <paramref name="tool"/>, or a <see cref="PlatformCapabilityException"/> naming its package.</summary>
    public static string Require(string? path, string tool, string package, string why) =>
        path ?? throw new PlatformCapabilityException(
            $"{tool} is not installed ({string.Join(", ", SearchDirectories)} searched); it is needed {why}",
            $"install the Debian package '{package}' (apt-get install {package})");

    private static string? Find(string name)
    {
        foreach (var dir in SearchDirectories)
        {
            var path = Path.Combine(dir, name);
            if (Libc.access(path, 1 /* X_OK */) == 0 && !Directory.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
