using System.Runtime.InteropServices;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>What the figures were measured on.</summary>
internal sealed record Machine(int Cpus, string CpuModel, string Kernel, string Cgroups, string Dotnet)
{
    public static Machine Describe()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var mounts = File.ReadAllText("/proc/self/mountinfo");
        var v2 = mounts.Contains(" - cgroup2 ", StringComparison.Ordinal);
        var v1 = mounts.Contains(" - cgroup ", StringComparison.Ordinal);
        var cgroups = v2 && v1 ? "hybrid (v2 + v1 controllers)" : v2 ? "v2" : "v1";
        return new Machine(Environment.ProcessorCount, model, File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), cgroups, RuntimeInformation.FrameworkDescription);
    }
}
