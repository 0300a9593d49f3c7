using System.Diagnostics.CodeAnalysis;
using Boxlite.Runtime.Hosting;
using Boxlite.Runtime.Linux;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>Adds the Linux platform to a Boxlite host or runtime builder.</summary>
public static class LinuxBoxliteBuilderExtensions
{
    /// <summary>
    /// Adds the Linux platform (cgroup containment, namespaces, whole-tree reapers) when running on Linux; does nothing
    /// on other operating systems, so a host can call both <c>AddLinux()</c> and <c>AddMacOS()</c>. Its settings are bound
    /// from the <c>Linux</c> sub-section of the Boxlite configuration, if any, then <paramref name="configure"/> runs;
    /// they are validated when the host starts. Safe to call more than once.
    /// </summary>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One per builder type: no call can be ambiguous")]
    public static IBoxliteBuilder AddLinux(this IBoxliteBuilder builder, Action<LinuxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatingSystem.IsLinux())
        {
            return builder;
        }

        BoxliteConfiguration.AddPlatformOptions<LinuxOptions>(builder.Services, "Linux", o => o.Validate(), (section, o) => section.Bind(o), configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<BoxPlatformFactory, LinuxPlatform>(sp =>
            new LinuxPlatform(sp.GetRequiredService<IOptions<LinuxOptions>>().Value)));
        return builder;
    }

    /// <summary>
    /// Adds the Linux platform to a runtime built without dependency injection when running on Linux; does nothing on
    /// other operating systems. Calling it again adds <paramref name="configure"/> to the same settings.
    /// </summary>
    /// <exception cref="InvalidBoxOptionsException">From <see cref="BoxliteRuntimeBuilder.BuildAsync"/>, when the settings are invalid.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "One per builder type: no call can be ambiguous")]
    public static BoxliteRuntimeBuilder AddLinux(this BoxliteRuntimeBuilder builder, Action<LinuxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatingSystem.IsLinux())
        {
            return builder;
        }

        var options = builder.PlatformOptions(() => new LinuxOptions());
        configure?.Invoke(options);
        return builder.AddPlatform(new LinuxPlatform(options));
    }
}
