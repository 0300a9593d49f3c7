using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Boxlite.Runtime.Interop;

/// <summary>Owner and type of a path as <c>lstat</c> sees it (a final symbolic link is not followed).</summary>
/// <param name="Owner">The owning uid.</param>
/// <param name="Mode">The full <c>st_mode</c>: type and permission bits.</param>
internal readonly record struct PathStatus(uint Owner, uint Mode)
{
    private const uint TypeMask = 0xF000;

    public bool IsDirectory => (Mode & TypeMask) == 0x4000;

    public bool IsSymbolicLink => (Mode & TypeMask) == 0xA000;

    public bool IsRegularFile => (Mode & TypeMask) == 0x8000;

    /// <summary>Group or others may write.</summary>
    public bool IsWritableByOthers => (Mode & 0x12) != 0;

    /// <summary>The sticky bit: in a directory, only an entry's owner may rename or remove it.</summary>
    public bool IsSticky => (Mode & 0x200) != 0;

    /// <summary>The permission bits in octal, e.g. <c>0755</c>.</summary>
    public string Permissions => "0" + Convert.ToString(Mode & 0xFFF, 8);
}

/// <summary>
/// The few POSIX file calls the core needs that .NET does not offer: a path's owner, <c>realpath</c>, the effective
/// uid. Linux reads <c>statx</c> (one layout on every architecture); macOS reads <c>lstat</c> with its 64-bit-inode
/// layout (the same on x64 and arm64, exported as <c>lstat$INODE64</c> on x64).
/// </summary>
internal static unsafe partial class PosixFiles
{
    private const int ENOENT = 2;
    private const int ENOTDIR = 20;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeModeUid = 0x1 | 0x2 | 0x8;

    /// <summary>True where these calls exist (Linux, macOS).</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public static bool IsSupported => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUserId => geteuid();

    /// <summary>The status of <paramref name="path"/> without following a final symbolic link; null when it does not exist.</summary>
    /// <exception cref="IOException">The path exists but cannot be inspected (e.g. a parent is not searchable).</exception>
    public static PathStatus? LStat(string path)
    {
        int result;
        uint owner, mode;
        if (OperatingSystem.IsMacOS())
        {
            var buffer = stackalloc byte[256];
            result = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? lstat_inode64(path, buffer) : lstat(path, buffer);
            mode = *(ushort*)(buffer + 4);
            owner = *(uint*)(buffer + 16);
        }
        else
        {
            var buffer = stackalloc byte[256];
            result = Posix.statx(Posix.AT_FDCWD, path, AtSymlinkNoFollow, StatxTypeModeUid, buffer);
            owner = *(uint*)(buffer + 20);
            mode = *(ushort*)(buffer + 28);
        }

        if (result == 0)
        {
            return new PathStatus(owner, mode);
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno is ENOENT or ENOTDIR
            ? null
            : throw new IOException($"cannot inspect {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    /// <summary><c>realpath(3)</c>: the absolute path with every symbolic link, <c>.</c> and <c>..</c> resolved; null when it cannot be resolved.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lstat$INODE64", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lstat_inode64(string path, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint pointer);
}
