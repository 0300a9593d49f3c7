using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.Linux;

/// <summary>Makes the Linux platform for a runtime (what <c>AddLinux()</c> registers).</summary>
internal sealed class LinuxPlatform(LinuxOptions options) : BoxPlatformFactory
{
    public override string Name => "linux";

    public override IBoxPlatform Create(PlatformContext context)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Boxlite.Runtime.Linux runs only on Linux");
        }

        BoxliteRuntimeBuilder.ThrowIfInvalid(options.Validate());
        return new LinuxBoxPlatform(context.Options, options, context.RegisteredReapers, CgroupFileSystem.Instance, LinuxTools.Locate(), context.Time,
            context.LoggerFactory.CreateLogger<LinuxBoxPlatform>());
    }
}
