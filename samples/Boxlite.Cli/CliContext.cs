using System.Runtime.InteropServices;
using Boxlite.Runtime.MacOS;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging;

namespace Boxlite.Cli;

/// <summary>The global options of one invocation, and how to get a runtime or platform from them.</summary>
internal sealed class CliContext : IDisposable
{
    private readonly ILoggerFactory? _loggerFactory;

    public CliContext(string? home, string? cgroupParent, bool debug)
    {
        Debug = debug;
        Options = new BoxliteOptions();
        if (!string.IsNullOrWhiteSpace(home))
        {
            // Absolute but as written: the runtime resolves it (links, "..") to the home's one identity.
            Options.HomeDirectory = Path.Combine(Environment.CurrentDirectory, home);
        }

        cgroupParent ??= Environment.GetEnvironmentVariable("BOXLITE_CGROUP_PARENT");
        if (!string.IsNullOrWhiteSpace(cgroupParent))
        {
            Options.CgroupParent = cgroupParent;
        }

        if (debug)
        {
            _loggerFactory = LoggerFactory.Create(b => b
                .SetMinimumLevel(LogLevel.Debug)
                .AddSimpleConsole(c => c.SingleLine = true)
                .AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace));
        }
    }

    /// <summary>Runtime settings from <c>--home</c> and <c>--cgroup-parent</c>.</summary>
    public BoxliteOptions Options { get; }

    /// <summary>True with <c>--debug</c>: logs and stack traces on stderr.</summary>
    public bool Debug { get; }

    /// <summary>
    /// Builds the runtime on the home. With <paramref name="recover"/>, recovery (reconciling records with reality)
    /// runs first and cleans up after crashed hosts. Commands that only report skip it: listing and reading a box
    /// still record the exits nobody saw, so they report the truth without a pass over every box and cgroup.
    /// </summary>
    public Task<IBoxRuntime> OpenRuntimeAsync(bool recover, CancellationToken cancellationToken)
    {
        var builder = new BoxliteRuntimeBuilder().Configure(o =>
        {
            o.HomeDirectory = Options.HomeDirectory;
            o.CgroupParent = Options.CgroupParent;
            o.RecoverOnStart = recover;
        });
        if (_loggerFactory is not null)
        {
            builder.UseLoggerFactory(_loggerFactory);
        }

        // The platform factories throw on a foreign operating system, so only the native one is offered.
        if (OperatingSystem.IsLinux())
        {
            builder.AddPlatform((o, lf) => LinuxPlatform.Create(o, lf));
        }
        else if (OperatingSystem.IsMacOS())
        {
            builder.AddPlatform((o, lf) => MacOSPlatform.Create(o, loggerFactory: lf));
        }

        return builder.BuildAsync(cancellationToken);
    }

    /// <summary>The platform of this operating system, without a store (for <c>doctor</c>).</summary>
    public IBoxPlatform CreatePlatform()
    {
        if (OperatingSystem.IsLinux())
        {
            return LinuxPlatform.Create(Options, _loggerFactory);
        }

        if (OperatingSystem.IsMacOS())
        {
            return MacOSPlatform.Create(Options, loggerFactory: _loggerFactory);
        }

        throw new PlatformCapabilityException(
            $"Boxlite has no platform for {RuntimeInformation.OSDescription}",
            "run on Linux or macOS");
    }

    public void Dispose() => _loggerFactory?.Dispose();
}
