using Boxlite.Runtime.MacOS;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Boxlite.Runtime;

/// <summary>Adds the macOS platform to a Boxlite host.</summary>
public static class MacOSBoxliteBuilderExtensions
{
    /// <summary>
    /// Registers the macOS platform (seatbelt isolation, process-group reaping) when running on macOS; elsewhere it does
    /// nothing, so a host can call both <c>AddLinux()</c> and <c>AddMacOS()</c>. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Boxlite builder.</param>
    /// <param name="configure">Adjusts the macOS settings.</param>
    /// <returns>The same builder.</returns>
    public static IBoxliteBuilder AddMacOS(this IBoxliteBuilder builder, Action<MacOSOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatingSystem.IsMacOS())
        {
            return builder;
        }

        var options = builder.Services.AddOptions<MacOSOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBoxPlatform, MacOSBoxPlatform>());
        return builder;
    }
}
