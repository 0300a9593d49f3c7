using Microsoft.Extensions.Logging;

namespace Boxlite.Cli;

/// <summary>The global options of one invocation, and how to get a runtime or a diagnosis from them.</summary>
internal sealed class CliContext : IDisposable
{
    private readonly ILoggerFactory? _loggerFactory;
    private readonly string? _cgroupParent;

    public CliContext(string? home, string? cgroupParent, bool debug)
    {
        Debug = debug;
        // Absolute but as written: the runtime resolves it (links, "..") to the home's one identity.
        HomeDirectory = string.IsNullOrWhiteSpace(home) ? new BoxliteOptions().HomeDirectory : Path.Combine(Environment.CurrentDirectory, home);
        cgroupParent ??= Environment.GetEnvironmentVariable("BOXLITE_CGROUP_PARENT");
        _cgroupParent = string.IsNullOrWhiteSpace(cgroupParent) ? null : cgroupParent;
        if (debug)
        {
            _loggerFactory = LoggerFactory.Create(b => b
                .SetMinimumLevel(LogLevel.Debug)
                .AddSimpleConsole(c => c.SingleLine = true)
                .AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace));
        }
    }

    /// <summary>The home from <c>--home</c>, else <c>$BOXLITE_HOME</c>, else <c>~/.boxlite</c>.</summary>
    public string HomeDirectory { get; }

    /// <summary>True with <c>--debug</c>: logs and stack traces on stderr.</summary>
    public bool Debug { get; }

    /// <summary>
    /// Builds the runtime on the home. With <paramref name="recover"/>, recovery (reconciling records with reality)
    /// runs first and cleans up after crashed hosts. Commands that only report skip it: listing and reading a box
    /// still record the exits nobody saw, so they report the truth without a pass over every box and cgroup.
    /// </summary>
    public Task<IBoxRuntime> OpenRuntimeAsync(bool recover, CancellationToken cancellationToken) =>
        Builder(recover).BuildAsync(cancellationToken);

    /// <summary>What the runtime would use on this host and what the host can do, without touching the home (<c>doctor</c>).</summary>
    public BoxliteDiagnosis Diagnose() => Builder(recover: false).Diagnose();

    public void Dispose() => _loggerFactory?.Dispose();

    private BoxliteRuntimeBuilder Builder(bool recover)
    {
        var builder = new BoxliteRuntimeBuilder()
            .Configure(o =>
            {
                o.HomeDirectory = HomeDirectory;
                o.RecoverOnStart = recover;
            })
            .AddLinux(o => o.CgroupParent = _cgroupParent)
            .AddMacOS();
        return _loggerFactory is null ? builder : builder.UseLoggerFactory(_loggerFactory);
    }
}
