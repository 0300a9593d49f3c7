using System.Diagnostics.Metrics;
using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime;

/// <summary>
/// Builds a runtime. The one way a runtime is made: console tools use it directly, and <c>AddBoxlite()</c> fills one from
/// the service provider. Add a platform with <c>.AddLinux()</c> and/or <c>.AddMacOS()</c> (each a no-op elsewhere).
/// </summary>
public sealed class BoxliteRuntimeBuilder
{
    private readonly BoxliteOptions _options;
    private readonly List<BoxPlatformFactory> _platforms = [];
    private readonly List<ITreeReaper> _reapers = [];
    private readonly Dictionary<Type, object> _platformOptions = [];
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private TimeProvider _time = TimeProvider.System;
    private IMeterFactory? _meterFactory;
    private IBoxStore? _store;

    /// <summary>A builder with default settings.</summary>
    public BoxliteRuntimeBuilder()
        : this(new BoxliteOptions())
    {
    }

    /// <summary>A builder on <paramref name="options"/> (the container's, or a test's).</summary>
    internal BoxliteRuntimeBuilder(BoxliteOptions options) => _options = options;

    /// <summary>Changes the runtime settings.</summary>
    public BoxliteRuntimeBuilder Configure(Action<BoxliteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>
    /// Adds a reaper of your own; the platform uses it when <see cref="BoxliteOptions.Reaper"/> names it or, with no
    /// name, when no supported built-in reaper guarantees more (see <see cref="BoxliteOptions.Reaper"/>). Adding the same
    /// instance again does nothing.
    /// </summary>
    public BoxliteRuntimeBuilder AddTreeReaper(ITreeReaper reaper)
    {
        ArgumentNullException.ThrowIfNull(reaper);
        if (!_reapers.Contains(reaper))
        {
            _reapers.Add(reaper);
        }

        return this;
    }

    /// <summary>Sets the logger factory.</summary>
    public BoxliteRuntimeBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        return this;
    }

    /// <summary>Sets the clock of the runtime and its platform (e.g. a fake one in tests).</summary>
    public BoxliteRuntimeBuilder UseTimeProvider(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        return this;
    }

    /// <summary>Creates the <see cref="BoxliteDiagnostics.SourceName"/> meter through <paramref name="meterFactory"/> instead of a static one.</summary>
    public BoxliteRuntimeBuilder UseMeterFactory(IMeterFactory meterFactory)
    {
        _meterFactory = meterFactory ?? throw new ArgumentNullException(nameof(meterFactory));
        return this;
    }

    /// <summary>Uses a store other than the home's embedded one (the caller keeps it and disposes it).</summary>
    internal BoxliteRuntimeBuilder UseStore(IBoxStore store)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        return this;
    }

    /// <summary>Validates the settings, opens the store, picks the platform and (unless disabled) recovers.</summary>
    /// <exception cref="InvalidBoxOptionsException">The settings (runtime or platform) are invalid; nothing was touched.</exception>
    /// <exception cref="PlatformCapabilityException">No platform fits this host, or the reaper asked for cannot be used.</exception>
    public async Task<IBoxRuntime> BuildAsync(CancellationToken cancellationToken = default)
    {
        var runtime = Build();
        try
        {
            if (_options.RecoverOnStart)
            {
                await runtime.RecoverAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return runtime;
    }

    /// <summary>
    /// What the runtime this builder makes would use on this host — platform, reaper (its guarantee, and whether it is one
    /// you added) — and what the host can and cannot do, with fixes (<c>boxlite doctor</c>). Neither the home nor the store
    /// is touched.
    /// </summary>
    public BoxliteDiagnosis Diagnose()
    {
        var platform = BuildPlatform();
        var reaper = platform.Reaper;
        return new BoxliteDiagnosis(platform.Name, reaper.Name, reaper.Guarantee, _reapers.Contains(reaper), reaper.Support.Reason, platform.Diagnose());
    }

    /// <summary>The runtime, without recovery (a host's hosted service recovers when the host starts).</summary>
    internal BoxRuntime Build()
    {
        ThrowIfInvalid(_options.Validate());
        var platform = BuildPlatform();
        var store = _store ?? BoxStores.OpenDefault(_options.HomeDirectory, _time);
        try
        {
            return new BoxRuntime(_options, store, platform, _time, _loggerFactory, ownsStore: _store is null, BoxliteMetrics.From(_meterFactory));
        }
        catch when (_store is null)
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Adds a platform's factory, replacing an earlier one of the same name (so adding a platform twice is safe).</summary>
    internal BoxliteRuntimeBuilder AddPlatform(BoxPlatformFactory factory)
    {
        _platforms.RemoveAll(p => p.Name == factory.Name);
        _platforms.Add(factory);
        return this;
    }

    /// <summary>The platform settings of type <typeparamref name="T"/> this builder keeps (one instance, so every configure call adds to it).</summary>
    internal T PlatformOptions<T>(Func<T> create)
        where T : class
    {
        if (!_platformOptions.TryGetValue(typeof(T), out var options))
        {
            options = create();
            _platformOptions[typeof(T)] = options;
        }

        return (T)options;
    }

    /// <summary>A builder filled from a service provider: what <c>AddBoxlite()</c> registered and the host provides.</summary>
    internal static BoxliteRuntimeBuilder FromServices(IServiceProvider services)
    {
        var builder = new BoxliteRuntimeBuilder(services.GetRequiredService<IOptions<BoxliteOptions>>().Value)
        {
            _loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            _time = services.GetService<TimeProvider>() ?? TimeProvider.System,
            _meterFactory = services.GetService<IMeterFactory>(),
            _store = services.GetService<IBoxStore>(),
        };
        foreach (var platform in services.GetServices<BoxPlatformFactory>())
        {
            builder.AddPlatform(platform);
        }

        foreach (var reaper in services.GetServices<ITreeReaper>())
        {
            builder.AddTreeReaper(reaper);
        }

        return builder;
    }

    /// <summary>Throws <see cref="InvalidBoxOptionsException"/> listing <paramref name="problems"/>, if any.</summary>
    internal static void ThrowIfInvalid(IReadOnlyList<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new InvalidBoxOptionsException(problems);
        }
    }

    /// <summary>The platform for this operating system (the first registered one that fits), or a capability error naming the package to add.</summary>
    private IBoxPlatform BuildPlatform()
    {
        var context = new PlatformContext(_options, _loggerFactory, _time, _reapers);
        return _platforms.Select(p => p.Create(context)).FirstOrDefault(p => p.IsCurrentOperatingSystem) ?? throw NoPlatform();
    }

    private static PlatformCapabilityException NoPlatform()
    {
        var (package, call) = OperatingSystem.IsMacOS()
            ? ("Boxlite.Runtime.MacOS", "AddMacOS()")
            : ("Boxlite.Runtime.Linux", "AddLinux()");
        var os = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "macOS" : System.Runtime.InteropServices.RuntimeInformation.OSDescription;
        return new PlatformCapabilityException(
            $"no Boxlite platform is registered for this operating system ({os})",
            $"add the package {package} and call services.AddBoxlite().{call} (or new BoxliteRuntimeBuilder().{call})");
    }
}

/// <summary>What a runtime would use on this host and what the host can do for boxes (<c>boxlite doctor</c>).</summary>
/// <param name="Platform">The platform's name (<c>linux</c>, <c>macos</c>).</param>
/// <param name="Reaper">The active reaper's name.</param>
/// <param name="Guarantee">What the active reaper guarantees to tear down.</param>
/// <param name="IsCustomReaper">True when the active reaper is one the host added (<c>AddTreeReaper</c>), not a built-in one.</param>
/// <param name="ReaperReason">Why the active reaper works here.</param>
/// <param name="Checks">Each capability of the host, with the fix when it is missing.</param>
public sealed record BoxliteDiagnosis(string Platform, string Reaper, ReapGuarantee Guarantee, bool IsCustomReaper, string ReaperReason, IReadOnlyList<CapabilityCheck> Checks);
