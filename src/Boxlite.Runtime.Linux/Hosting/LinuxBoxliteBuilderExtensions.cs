using Boxlite.Runtime.Linux;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>Registers the Linux platform.</summary>
public static class LinuxBoxliteBuilderExtensions
{
    /// <summary>
    /// Adds the Linux platform (cgroup containment, namespaces, whole-tree reapers) when running on Linux; does nothing
    /// on other operating systems, so a host can call both <c>AddLinux()</c> and <c>AddMacOS()</c>. Safe to call twice.
    /// </summary>
    public static IBoxliteBuilder AddLinux(this IBoxliteBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (OperatingSystem.IsLinux())
        {
            builder.Services.AddOptions();
            builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IBoxPlatform, LinuxBoxPlatform>(sp =>
                new LinuxBoxPlatform(
                    sp.GetRequiredService<IOptions<BoxliteOptions>>(),
                    sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)));
        }

        return builder;
    }
}
