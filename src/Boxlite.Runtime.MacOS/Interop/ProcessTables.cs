using Boxlite.Runtime.MacOS.Reaping;

namespace Boxlite.Runtime.MacOS.Interop;

/// <summary>The process table of the host.</summary>
internal static class ProcessTables
{
    public static IProcessTable ForHost() => OperatingSystem.IsMacOS() ? new DarwinProcessTable() : Unavailable.Instance;

    /// <summary>Off macOS the platform exists (hosts call AddMacOS() everywhere) but cannot look at processes.</summary>
    private sealed class Unavailable : IProcessTable
    {
        public static Unavailable Instance { get; } = new();

        public string BootId => throw NotMacOS();

        public ProcessEntry? Get(int pid) => throw NotMacOS();

        public IReadOnlyList<int> ListGroup(int groupId) => throw NotMacOS();

        public IReadOnlyList<int> ListChildren(int pid) => throw NotMacOS();

        public int Signal(int pid, int signal) => throw NotMacOS();

        public int SignalGroup(int groupId, int signal) => throw NotMacOS();

        private static PlatformCapabilityException NotMacOS() =>
            new("the macOS platform reads the process table through libproc, which exists only on macOS", "use the Linux platform (AddLinux()) on Linux");
    }
}
