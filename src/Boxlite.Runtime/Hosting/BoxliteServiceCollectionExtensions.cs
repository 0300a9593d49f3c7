using Boxlite.Runtime.Hosting;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>Registers Boxlite in a service collection.</summary>
public static class BoxliteServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Boxlite runtime (<see cref="IBoxRuntime"/>), its store and a hosted service that recovers on start
    /// and stops attached boxes on shutdown. Add a platform with <c>.AddLinux()</c> and/or <c>.AddMacOS()</c>.
    /// Safe to call more than once.
    /// </summary>
    public static IBoxliteBuilder AddBoxlite(this IServiceCollection services, Action<BoxliteOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<BoxliteOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BoxliteOptions>, BoxliteOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IBoxStore>(sp => BoxStores.OpenDefault(sp.GetRequiredService<IOptions<BoxliteOptions>>().Value.HomeDirectory, sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IBoxRuntime>(sp => new BoxRuntime(
            sp.GetRequiredService<IOptions<BoxliteOptions>>().Value,
            sp.GetRequiredService<IBoxStore>(),
            SelectPlatform(sp.GetServices<IBoxPlatform>()),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BoxliteHostedService>());
        return new BoxliteBuilder(services);
    }

    /// <summary>The platform for this operating system, or a capability error naming the package to add.</summary>
    internal static IBoxPlatform SelectPlatform(IEnumerable<IBoxPlatform> platforms) =>
        platforms.FirstOrDefault(p => p.IsCurrentOperatingSystem) ?? throw NoPlatform();

    internal static PlatformCapabilityException NoPlatform()
    {
        var (package, call) = OperatingSystem.IsMacOS()
            ? ("Boxlite.Runtime.MacOS", "AddMacOS()")
            : ("Boxlite.Runtime.Linux", "AddLinux()");
        var os = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "macOS" : System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        return new PlatformCapabilityException(
            $"no Boxlite platform is registered for this operating system ({os})",
            $"add the package {package} and call services.AddBoxlite().{call}");
    }

    private sealed class BoxliteBuilder(IServiceCollection services) : IBoxliteBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
