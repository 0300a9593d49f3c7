using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Linux.Monitor;

/// <summary>
/// The compiled box monitor (<c>boxlite-monitor.c</c>), built for x86_64 and aarch64 and embedded in this assembly. It
/// runs from the trusted home: installed once as <c>&lt;home&gt;/bin/boxlite-monitor-&lt;sha256 prefix&gt;</c> (0700,
/// written to a temporary name, then renamed), found again by that name and content, and always run by absolute path.
/// </summary>
internal static class MonitorBinary
{
    /// <summary>The directory of the home that holds it.</summary>
    public const string DirectoryName = "bin";

    /// <summary>The embedded monitor for <paramref name="architecture"/>, or null when none is built for it.</summary>
    public static byte[]? For(Architecture architecture)
    {
        var name = architecture switch
        {
            Architecture.X64 => "boxlite-monitor-x86_64",
            Architecture.Arm64 => "boxlite-monitor-aarch64",
            _ => null,
        };
        using var stream = name is null ? null : Assembly.GetExecutingAssembly().GetManifestResourceStream(name);
        if (stream is null)
        {
            return null;
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Installs the monitor of this process's architecture in <paramref name="home"/> unless it is there; returns its path.</summary>
    /// <exception cref="PlatformCapabilityException">No monitor is built for this architecture, or the home does not let it run.</exception>
    public static string Install(string home)
    {
        if (!PosixFiles.IsSupported)
        {
            throw new PlatformNotSupportedException("the box monitor runs on Linux");
        }

        var architecture = RuntimeInformation.ProcessArchitecture;
        var bytes = For(architecture) ?? throw new PlatformCapabilityException(
            $"the Linux box monitor is built for x86_64 and arm64, not for {architecture}",
            "run the box host on x86_64 or arm64 Linux");
        var directory = Path.Combine(home, DirectoryName);
        var path = Path.Combine(directory, "boxlite-monitor-" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
        try
        {
            BoxliteHome.CreatePrivateDirectory(directory);
            if (PosixFiles.LStat(directory) is not { IsDirectory: true, IsSymbolicLink: false } status || status.Owner != PosixFiles.EffectiveUserId || status.IsWritableByOthers)
            {
                throw new PlatformCapabilityException($"{directory} is not a private directory of this user, so the box monitor cannot be trusted there",
                    $"remove {directory} (Boxlite creates it)");
            }

            if (!IsInstalled(path, bytes))
            {
                var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}";
                using (var file = new FileStream(temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute }))
                {
                    file.Write(bytes);
                }

                // Whatever the umask took away.
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

                File.Move(temporary, path, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlatformCapabilityException($"cannot install the box monitor in {directory}: {e.Message}", "make the Boxlite home writable by this user", e);
        }

        // access(2) refuses X_OK for a file on a noexec mount.
        if (Libc.access(path, 1 /* X_OK */) != 0)
        {
            throw new PlatformCapabilityException(
                $"the box monitor {path} cannot be executed ({Libc.Describe(Libc.LastErrno)}): the Boxlite home is probably on a file system mounted noexec",
                "choose a home on a file system that allows executables (BoxliteOptions.HomeDirectory, --home, BOXLITE_HOME), or remount it without noexec");
        }

        return path;
    }

    private static bool IsInstalled(string path, byte[] bytes)
    {
        if (PosixFiles.LStat(path) is not { IsRegularFile: true } status || status.Owner != PosixFiles.EffectiveUserId || (status.Mode & 0x1FF) != 0x1C0 /* 0700 */)
        {
            return false;
        }

        var installed = File.ReadAllBytes(path);
        return installed.AsSpan().SequenceEqual(bytes);
    }
}
