using System.Diagnostics.CodeAnalysis;
using Boxlite.Runtime.Hosting;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Boxlite.Runtime;

/// <summary>Registers Boxlite in a service collection.</summary>
public static class BoxliteServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Boxlite runtime (<see cref="IBoxRuntime"/>), <see cref="BoxliteHealthCheck"/> and a hosted service that
    /// recovers on start and stops attached boxes on shutdown. Add a platform with <c>.AddLinux()</c> and/or
    /// <c>.AddMacOS()</c>. The runtime is made by a <see cref="BoxliteRuntimeBuilder"/> filled from the container: the
    /// host's <see cref="TimeProvider"/>, <see cref="System.Diagnostics.Metrics.IMeterFactory"/>, logger factory and, when
    /// registered, an <see cref="State.IBoxStore"/> replace the defaults. Settings are validated when the host starts.
    /// Safe to call more than once.
    /// </summary>
    public static IBoxliteBuilder AddBoxlite(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<BoxliteOptions>(o => o.Validate());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => BoxliteRuntimeBuilder.FromServices(sp).Build());
        services.TryAddSingleton<IBoxRuntime>(sp => sp.GetRequiredService<BoxRuntime>());
        services.TryAddSingleton(sp => new BoxliteHealthCheck(sp.GetRequiredService<BoxRuntime>(), [.. sp.GetServices<ITreeReaper>()]));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BoxliteHostedService>());
        return new BoxliteBuilder(services);
    }

    /// <summary>Adds Boxlite as <see cref="AddBoxlite(IServiceCollection)"/> does, with its settings adjusted by <paramref name="configure"/>.</summary>
    public static IBoxliteBuilder AddBoxlite(this IServiceCollection services, Action<BoxliteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddBoxlite();
        services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Adds Boxlite as <see cref="AddBoxlite(IServiceCollection)"/> does, with its settings bound
    /// from <paramref name="configuration"/> (e.g. <c>builder.Configuration.GetSection("Boxlite")</c>): keys named as the
    /// properties of <see cref="BoxliteOptions"/>, a platform's settings in a sub-section of the platform's name
    /// (<c>Linux:CgroupParent</c>, <c>MacOS:AllowNetwork</c>). Settings configured in code after this call win.
    /// </summary>
    public static IBoxliteBuilder AddBoxlite(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        BoxliteConfiguration.Register(services, _ => configuration);
        return services.AddBoxlite();
    }

    /// <summary>
    /// Binds the Boxlite settings from the section <paramref name="sectionPath"/> of the host's
    /// <see cref="IConfiguration"/>, as <see cref="AddBoxlite(IServiceCollection, IConfiguration)"/> binds its section.
    /// Settings configured in code before this call are overridden by the section's values, those after it win.
    /// </summary>
    public static IBoxliteBuilder BindConfiguration(this IBoxliteBuilder builder, string sectionPath = "Boxlite")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(sectionPath);
        BoxliteConfiguration.Register(builder.Services, sp => sp.GetRequiredService<IConfiguration>().GetSection(sectionPath));
        return builder;
    }

    /// <summary>
    /// Registers a reaper of your own (a singleton made by the container); the platform uses it when
    /// <see cref="BoxliteOptions.Reaper"/> names it or, with no name, when no supported built-in reaper guarantees more.
    /// Registering the same type again does nothing.
    /// </summary>
    public static IBoxliteBuilder AddTreeReaper<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TReaper>(this IBoxliteBuilder builder)
        where TReaper : class, ITreeReaper
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ITreeReaper, TReaper>());
        return builder;
    }

    /// <summary>
    /// Registers a reaper of your own made by <paramref name="factory"/> (once, as a singleton); chosen as with
    /// <see cref="AddTreeReaper{TReaper}(IBoxliteBuilder)"/>. Registering the same type again does nothing, except for a
    /// factory typed only as <see cref="ITreeReaper"/>: nothing tells its reapers apart, so each is registered.
    /// </summary>
    public static IBoxliteBuilder AddTreeReaper<TReaper>(this IBoxliteBuilder builder, Func<IServiceProvider, TReaper> factory)
        where TReaper : class, ITreeReaper
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        var descriptor = ServiceDescriptor.Singleton<ITreeReaper, TReaper>(factory);
        if (typeof(TReaper) == typeof(ITreeReaper))
        {
            builder.Services.Add(descriptor);
        }
        else
        {
            builder.Services.TryAddEnumerable(descriptor);
        }

        return builder;
    }

    private sealed class BoxliteBuilder(IServiceCollection services) : IBoxliteBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
