using Boxlite.Runtime.MacOS.Interop;
using Boxlite.Runtime.MacOS.Isolation;

namespace Boxlite.Runtime.MacOS;

/// <summary>Makes the macOS platform for a runtime (what <c>AddMacOS()</c> registers).</summary>
internal sealed class MacOSPlatform(MacOSOptions options) : BoxPlatformFactory
{
    public override string Name => "macos";

    public override IBoxPlatform Create(PlatformContext context)
    {
        BoxliteRuntimeBuilder.ThrowIfInvalid(options.Validate());
        return new MacOSBoxPlatform(context.Options, options, ProcessTables.ForHost(), FileSystemPathCanonicalizer.Instance, context.LoggerFactory,
            context.Time, context.RegisteredReapers);
    }
}
