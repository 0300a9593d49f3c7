using System.Diagnostics.CodeAnalysis;
using Boxlite.Runtime.Hosting;
using Boxlite.Runtime.MacOS;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>Adds the macOS platform to a Boxlite host or runtime builder.</summary>
public static class MacOSBoxliteBuilderExtensions
{
    /// <summary>
    /// Registers the macOS platform (seatbelt isolation, process-group reaping) when running on macOS; elsewhere it does
    /// nothing, so a host can call both <c>AddLinux()</c> and <c>AddMacOS()</c>. Its settings are bound from the
    /// <c>MacOS</c> sub-section of the Boxlite configuration, if any, then <paramref name="configure"/> runs; they are
    /// validated when the host starts. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Boxlite builder.</param>
    /// <param name="configure">Adjusts the macOS settings.</param>
    /// <returns>The same builder.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One per builder type: no call can be ambiguous")]
    public static IBoxliteBuilder AddMacOS(this IBoxliteBuilder builder, Action<MacOSOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatingSystem.IsMacOS())
        {
            return builder;
        }

        BoxliteConfiguration.AddPlatformOptions<MacOSOptions>(builder.Services, "MacOS", o => o.Validate(), (section, o) => section.Bind(o), configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<BoxPlatformFactory, MacOSPlatform>(sp =>
            new MacOSPlatform(sp.GetRequiredService<IOptions<MacOSOptions>>().Value)));
        return builder;
    }

    /// <summary>
    /// Adds the macOS platform to a runtime built without dependency injection when running on macOS; does nothing on
    /// other operating systems. Calling it again adds <paramref name="configure"/> to the same settings.
    /// </summary>
    /// <param name="builder">The runtime builder.</param>
    /// <param name="configure">Adjusts the macOS settings.</param>
    /// <returns>The same builder.</returns>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One per builder type: no call can be ambiguous")]
    public static BoxliteRuntimeBuilder AddMacOS(this BoxliteRuntimeBuilder builder, Action<MacOSOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatingSystem.IsMacOS())
        {
            return builder;
        }

        var options = builder.PlatformOptions(() => new MacOSOptions());
        configure?.Invoke(options);
        return builder.AddPlatform(new MacOSPlatform(options));
    }
}
