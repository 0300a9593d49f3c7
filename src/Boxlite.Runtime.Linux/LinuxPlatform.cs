using Boxlite.Runtime.Linux;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>Creates the Linux platform without dependency injection (console tools, tests).</summary>
public static class LinuxPlatform
{
    /// <summary>The Linux platform for <paramref name="options"/>, with the best reaper this host supports (or the one named).</summary>
    /// <exception cref="PlatformNotSupportedException">Not running on Linux.</exception>
    /// <exception cref="PlatformCapabilityException">The named reaper is unknown or unusable here.</exception>
    public static IBoxPlatform Create(BoxliteOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Boxlite.Runtime.Linux runs only on Linux");
        }

        return new LinuxBoxPlatform(Options.Create(options), loggerFactory ?? NullLoggerFactory.Instance);
    }
}
