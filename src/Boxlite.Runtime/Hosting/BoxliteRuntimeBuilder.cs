using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

/// <summary>Builds a runtime without dependency injection, for console tools.</summary>
public sealed class BoxliteRuntimeBuilder
{
    private readonly BoxliteOptions _options = new();
    private readonly List<Func<BoxliteOptions, ILoggerFactory?, IBoxPlatform>> _platforms = [];
    private ILoggerFactory? _loggerFactory;
    private TimeProvider _time = TimeProvider.System;
    private IBoxStore? _store;

    /// <summary>Changes the runtime settings.</summary>
    public BoxliteRuntimeBuilder Configure(Action<BoxliteOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>Adds a candidate platform; the first one for this operating system is used.</summary>
    public BoxliteRuntimeBuilder AddPlatform(Func<BoxliteOptions, ILoggerFactory?, IBoxPlatform> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _platforms.Add(factory);
        return this;
    }

    /// <summary>Sets the logger factory.</summary>
    public BoxliteRuntimeBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Sets the time provider (tests).</summary>
    public BoxliteRuntimeBuilder UseTimeProvider(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        return this;
    }

    /// <summary>Uses a store other than the home's embedded one.</summary>
    public BoxliteRuntimeBuilder UseStore(IBoxStore store)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        return this;
    }

    /// <summary>Validates the settings, opens the store, picks the platform and (unless disabled) recovers.</summary>
    public async Task<IBoxRuntime> BuildAsync(CancellationToken cancellationToken = default)
    {
        var problems = _options.Validate();
        if (problems.Count > 0)
        {
            throw new InvalidBoxOptionsException(problems);
        }

        var platform = BoxliteServiceCollectionExtensions.SelectPlatform(_platforms.Select(f => f(_options, _loggerFactory)));
        var store = _store ?? BoxStores.OpenDefault(_options.HomeDirectory, _time);
        var runtime = new BoxRuntime(_options, store, platform, _time, _loggerFactory, ownsStore: _store is null);
        if (_options.RecoverOnStart)
        {
            await runtime.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        return runtime;
    }
}
