using Boxlite.Runtime.MacOS.Interop;
using Boxlite.Runtime.MacOS.Isolation;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.MacOS;

/// <summary>Creates the macOS platform without dependency injection (console tools).</summary>
public static class MacOSPlatform
{
    /// <summary>The macOS platform with these settings.</summary>
    /// <param name="options">Runtime-wide settings.</param>
    /// <param name="macOptions">macOS settings; null for the defaults.</param>
    /// <param name="loggerFactory">Where to log; null for nowhere.</param>
    public static IBoxPlatform Create(BoxliteOptions options, MacOSOptions? macOptions = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MacOSBoxPlatform(options, macOptions ?? new MacOSOptions(), ProcessTables.ForHost(), FileSystemPathCanonicalizer.Instance, loggerFactory);
    }
}
