using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Boxlite.Runtime.Hosting;

/// <summary>
/// The configuration section the Boxlite settings are bound from, when the host gave one; platform packages bind their
/// settings from its sub-section of their name. Binding is source-generated (no reflection: trimming- and AOT-safe).
/// </summary>
internal sealed class BoxliteConfiguration(Func<IServiceProvider, IConfiguration> section)
{
    /// <summary>Binds <see cref="BoxliteOptions"/> from <paramref name="section"/>, and makes it the section platforms bind from.</summary>
    public static void Register(IServiceCollection services, Func<IServiceProvider, IConfiguration> section)
    {
        services.Replace(ServiceDescriptor.Singleton(new BoxliteConfiguration(section)));
        services.AddOptions<BoxliteOptions>().Configure<IServiceProvider>((options, sp) => section(sp).Bind(options));
    }

    /// <summary>The sub-section <paramref name="platform"/> of the Boxlite section, or null when none was given.</summary>
    public static IConfiguration? PlatformSection(IServiceProvider services, string platform) =>
        services.GetService<BoxliteConfiguration>() is { } configuration ? configuration.Section(services).GetSection(platform) : null;

    private IConfiguration Section(IServiceProvider services) => section(services);
}
