using System.Runtime.InteropServices;

namespace Boxlite.Runtime.Interop;

/// <summary>
/// The POSIX calls of the core (Linux and macOS): safe reads of control files, file checks and process launch. The
/// constants that differ per operating system and architecture are chosen at run time.
/// </summary>
internal static unsafe partial class Posix
{
    internal const int ECHILD = 10;
    internal const int EINTR = 4;
    internal const int ETXTBSY = 26;
    internal const int WNOHANG = 1;
    internal const int X_OK = 1;
    internal const int SIGKILL = 9;

    internal const int S_IFMT = 0xF000;
    internal const int S_IFREG = 0x8000;

    internal static readonly bool IsMacOS = OperatingSystem.IsMacOS();

    // Linux: arm, arm64 and powerpc number these open flags their own way; the other architectures .NET runs on share
    // the generic numbers. macOS has one set for both of its architectures.
    private static readonly bool ArmLikeOpenFlags =
        RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le;

    internal static readonly int O_NONBLOCK = IsMacOS ? 0x4 : 0x800;
    internal static readonly int O_NOFOLLOW = IsMacOS ? 0x100 : ArmLikeOpenFlags ? 0x8000 : 0x20000;
    internal static readonly int O_CLOEXEC = IsMacOS ? 0x1000000 : 0x80000;
    internal static readonly int O_NOCTTY = IsMacOS ? 0x20000 : 0x100;

    // Pipes written without blocking (used on Linux only: its numbers).
    internal const int EAGAIN = 11;
    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const short POLLIN = 0x1;
    internal const short POLLOUT = 0x4;

    // posix_spawn (used on Linux only: glibc's numbers).
    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    // Opaque glibc structures, allocated larger than they are (posix_spawnattr_t is 336 bytes, the file actions 80,
    // sigset_t 128 on 64-bit glibc).
    internal const int SpawnStructSize = 1024;

    internal const int AT_FDCWD = -100;
    private const int AT_EMPTY_PATH = 0x1000;
    private const uint STATX_TYPE = 0x1;
    private const int StatxModeOffset = 28;
    private const int MacStatModeOffset = 4;
    private const int StatBufferSize = 512;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint pread(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int access(string path, int mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc")]
    internal static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addopen(void* actions, int fd, string path, int flags, uint mode);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int posix_spawn_file_actions_addchdir_np(void* actions, string path);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_addclosefrom_np(void* actions, int from);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setsigmask(void* attributes, void* mask);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setsigdefault(void* attributes, void* signals);

    [LibraryImport("libc")]
    internal static partial int sigemptyset(void* set);

    [LibraryImport("libc")]
    internal static partial int sigfillset(void* set);

    // statx has one layout on every Linux architecture (struct stat does not).
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    // macOS: the 64-bit-inode struct stat (st_mode at offset 4); x64 names it with the $INODE64 suffix.
    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int fstat_arm64(int fd, byte* buffer);

    [LibraryImport("libc", EntryPoint = "fstat$INODE64", SetLastError = true)]
    private static partial int fstat_x64(int fd, byte* buffer);

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int stat_arm64(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "stat$INODE64", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int stat_x64(string path, byte* buffer);

    internal static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Makes writes and reads of <paramref name="fd"/> return at once instead of waiting; false on failure.</summary>
    internal static bool SetNonBlocking(int fd)
    {
        var flags = fcntl(fd, F_GETFL, 0);
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
    }

    internal static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>The file type bits (<c>S_IFMT</c>) of an open descriptor, or -1.</summary>
    internal static int FileType(int fd)
    {
        var buffer = stackalloc byte[StatBufferSize];
        var ok = IsMacOS
            ? (RuntimeInformation.ProcessArchitecture == Architecture.X64 ? fstat_x64(fd, buffer) : fstat_arm64(fd, buffer)) == 0
            : statx(fd, string.Empty, AT_EMPTY_PATH, STATX_TYPE, buffer) == 0;
        return ok ? TypeBits(buffer) : -1;
    }

    /// <summary>The file type bits (<c>S_IFMT</c>) of a path, following symbolic links, or -1.</summary>
    internal static int FileType(string path)
    {
        var buffer = stackalloc byte[StatBufferSize];
        var ok = IsMacOS
            ? (RuntimeInformation.ProcessArchitecture == Architecture.X64 ? stat_x64(path, buffer) : stat_arm64(path, buffer)) == 0
            : statx(AT_FDCWD, path, 0, STATX_TYPE, buffer) == 0;
        return ok ? TypeBits(buffer) : -1;
    }

    /// <summary>One descriptor <c>poll</c> watches.</summary>
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    private static int TypeBits(byte* buffer) =>
        *(ushort*)(buffer + (IsMacOS ? MacStatModeOffset : StatxModeOffset)) & S_IFMT;
}
