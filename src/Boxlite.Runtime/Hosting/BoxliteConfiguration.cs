using System.Diagnostics.CodeAnalysis;
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

    /// <summary>
    /// Adds a platform's settings: bound by <paramref name="bind"/> (the platform's generated binder) from the sub-section
    /// <paramref name="platform"/> of the Boxlite section, if any, then adjusted by <paramref name="configure"/>, and
    /// checked by <paramref name="validate"/> when the host starts.
    /// </summary>
    public static void AddPlatformOptions<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(
        IServiceCollection services, string platform, Func<T, IReadOnlyList<string>> validate, Action<IConfiguration, T> bind, Action<T>? configure)
        where T : class
    {
        var options = services.AddValidatedOptions(validate).Configure<IServiceProvider>((o, sp) =>
        {
            if (sp.GetService<BoxliteConfiguration>() is { } configuration)
            {
                bind(configuration.Section(sp).GetSection(platform), o);
            }
        });
        if (configure is not null)
        {
            options.Configure(configure);
        }
    }

    private IConfiguration Section(IServiceProvider services) => section(services);
}
