using System.Reflection;
using System.Runtime.InteropServices;

namespace Boxlite.Runtime.MacOS.Interop;

/// <summary>
/// The C library calls of the macOS platform. Everything is imported from <c>libSystem</c>; on Linux the POSIX subset
/// (<c>kill</c>, <c>getsid</c>) resolves to <c>libc</c> under the same names, which lets the group sweep
/// run against real processes there.
/// </summary>
internal static unsafe partial class LibSystem
{
    private const string Library = "libSystem";

    internal const int ESRCH = 3;
    internal const int EPERM = 1;

    // proc_listpids(2) selectors and proc_pidinfo(2) flavors (<sys/proc_info.h>).
    internal const uint ProcPgrpOnly = 2;
    internal const uint ProcPpidOnly = 6;
    internal const int ProcPidTBsdInfo = 3;

    static LibSystem() => NativeLibrary.SetDllImportResolver(typeof(LibSystem).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        // Absolute on macOS (no search path involved); the same POSIX names live in glibc's libc on Linux.
        return OperatingSystem.IsMacOS() ? NativeLibrary.Load("/usr/lib/libSystem.B.dylib")
            : NativeLibrary.TryLoad("libc.so.6", out var libc) ? libc
            : IntPtr.Zero;
    }

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "getsid", SetLastError = true)]
    internal static partial int GetSid(int pid);

    [LibraryImport(Library, EntryPoint = "proc_listpids", SetLastError = true)]
    internal static partial int ProcListPids(uint type, uint typeInfo, int* buffer, int bufferSize);

    [LibraryImport(Library, EntryPoint = "proc_pidinfo", SetLastError = true)]
    internal static partial int ProcPidInfo(int pid, int flavor, ulong arg, void* buffer, int bufferSize);

    [LibraryImport(Library, EntryPoint = "sysctlbyname", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int SysctlByName(string name, void* oldValue, nuint* oldLength, void* newValue, nuint newLength);

    /// <summary><c>struct proc_bsdinfo</c> (<c>&lt;sys/proc_info.h&gt;</c>), the fields read here.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProcBsdInfo
    {
        public uint Flags;
        public uint Status;
        public uint ExitStatus;
        public uint Pid;
        public uint ParentPid;
        public uint Uid;
        public uint Gid;
        public uint RealUid;
        public uint RealGid;
        public uint SavedUid;
        public uint SavedGid;
        public uint Reserved;
        public fixed byte Command[16];
        public fixed byte Name[32];
        public uint OpenFiles;
        public uint ProcessGroupId;
        public uint JobControlCount;
        public uint TerminalDevice;
        public uint TerminalProcessGroupId;
        public int Nice;
        public ulong StartSeconds;
        public ulong StartMicroseconds;
    }
}
