using Boxlite.Runtime.State;

namespace Boxlite.Runtime;

/// <summary>
/// Runtime-wide settings, the same on every platform (a platform's own settings are its options: <c>AddLinux(o =&gt; …)</c>,
/// <c>AddMacOS(o =&gt; …)</c>). Validated when the runtime starts. Bound from configuration by
/// <c>AddBoxlite(IConfiguration)</c>, the section's keys named as the properties (e.g. <c>Boxlite:HomeDirectory</c>).
/// </summary>
public sealed class BoxliteOptions
{
    /// <summary>
    /// The directory holding the store and the box directories; default <c>$BOXLITE_HOME</c>, else <c>~/.boxlite</c>.
    /// A home is known by its fully resolved path (symbolic links, <c>.</c>, <c>..</c> and trailing slashes do not
    /// make another home). It must be owned by the user running Boxlite and writable by nobody else, and every
    /// directory above it owned by that user or root and not writable by others (unless sticky, like <c>/tmp</c>);
    /// the runtime refuses any other home before it writes anything.
    /// </summary>
    public string HomeDirectory { get; set; } = DefaultHome();

    private ResolvedHome? _resolvedHome;

    /// <summary>The home's identity: <see cref="HomeDirectory"/> fully resolved (resolved once per value).</summary>
    internal string ResolvedHomeDirectory
    {
        get
        {
            // One reference, so that a reader on another thread never pairs one home with another's resolution.
            var cached = _resolvedHome;
            if (cached is null || cached.Written != HomeDirectory)
            {
                cached = new ResolvedHome(HomeDirectory, BoxliteHome.Resolve(HomeDirectory));
                _resolvedHome = cached;
            }

            return cached.Resolved;
        }
    }

    /// <summary>Grace period of a stop when the box names none.</summary>
    public TimeSpan DefaultStopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a reap may take to confirm the tree gone before it reports survivors.</summary>
    public TimeSpan ReapTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The reaper to use by name: a built-in one (e.g. <c>cgroup-freeze-kill</c>) or one registered with
    /// <c>AddTreeReaper</c>; default <c>$BOXLITE_REAPER</c>, else null. Null picks the supported reaper with the strongest
    /// guarantee, a registered reaper before a built-in one of the same guarantee (registered ones in registration order).
    /// </summary>
    public string? Reaper { get; set; } = Environment.GetEnvironmentVariable("BOXLITE_REAPER") is { Length: > 0 } named ? named : null;

    /// <summary>
    /// The most bytes each of a box's stdout and stderr takes of its log file, the frame header of each chunk included
    /// (a chunk of <c>n</c> bytes takes <c>n</c> plus 3 to 21): the log file stays within twice this, however the box
    /// writes. Output past it is read and dropped, so the box is never blocked by its log. At least 1024.
    /// </summary>
    public long MaxLogBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Recover (reconcile records with reality) when the runtime starts.</summary>
    public bool RecoverOnStart { get; set; } = true;

    /// <summary>Every problem of these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(HomeDirectory) || !Path.IsPathFullyQualified(HomeDirectory))
        {
            problems.Add($"HomeDirectory must be an absolute path, not '{HomeDirectory}'");
        }

        if (DefaultStopTimeout < TimeSpan.Zero)
        {
            problems.Add("DefaultStopTimeout must not be negative");
        }

        if (ReapTimeout <= TimeSpan.Zero)
        {
            problems.Add("ReapTimeout must be positive");
        }

        if (MaxLogBytes < 1024)
        {
            problems.Add("MaxLogBytes must be at least 1024");
        }

        return problems;
    }

    private static string DefaultHome()
    {
        var env = Environment.GetEnvironmentVariable("BOXLITE_HOME");
        if (!string.IsNullOrWhiteSpace(env))
        {
            return Path.GetFullPath(env);
        }

        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".boxlite");
    }

    private sealed record ResolvedHome(string Written, string Resolved);
}
