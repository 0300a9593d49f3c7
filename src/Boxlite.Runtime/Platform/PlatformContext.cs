using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.Platform;

/// <summary>What a platform is built from: the runtime's settings and services, and the reapers the host registered.</summary>
/// <param name="Options">The runtime's settings.</param>
/// <param name="LoggerFactory">Where the platform logs.</param>
/// <param name="Time">The runtime's clock.</param>
/// <param name="RegisteredReapers">Reapers the host registered (<c>AddTreeReaper</c>), in registration order.</param>
internal sealed record PlatformContext(BoxliteOptions Options, ILoggerFactory LoggerFactory, TimeProvider Time, IReadOnlyList<ITreeReaper> RegisteredReapers);

/// <summary>
/// Builds one operating system's platform for a runtime. A platform package registers one per platform
/// (<c>AddLinux()</c>, <c>AddMacOS()</c>), in the service collection or in a <see cref="BoxliteRuntimeBuilder"/>; the
/// builder is the one place that calls it.
/// </summary>
internal abstract class BoxPlatformFactory
{
    /// <summary>The platform's name; a builder keeps one factory per name.</summary>
    public abstract string Name { get; }

    /// <summary>The platform for <paramref name="context"/>; throws <see cref="InvalidBoxOptionsException"/> on invalid platform settings.</summary>
    public abstract IBoxPlatform Create(PlatformContext context);
}
