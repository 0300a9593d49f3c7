using System.Security.Cryptography;
using System.Text;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime;

/// <summary>Runtime-wide settings. Validated when the runtime starts.</summary>
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

    private string? _cgroupParent;
    private ResolvedHome? _resolvedHome;

    /// <summary>
    /// The cgroup under which box cgroups are created (Linux, as root). Default: <c>boxlite-</c> and 12 hex digits of
    /// the SHA-256 of the fully resolved <see cref="HomeDirectory"/>, so each home has its own parent, however it is
    /// spelled, and recovering one home never touches the boxes of another.
    /// </summary>
    public string CgroupParent
    {
        get => _cgroupParent ?? "boxlite-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ResolvedHomeDirectory ?? string.Empty)))[..12];
        set => _cgroupParent = value;
    }

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
    /// The reaper to use by name (e.g. <c>cgroup-freeze-kill</c>); default <c>$BOXLITE_REAPER</c>, else null, which
    /// picks the best this host supports.
    /// </summary>
    public string? Reaper { get; set; } = Environment.GetEnvironmentVariable("BOXLITE_REAPER") is { Length: > 0 } named ? named : null;

    /// <summary>The most bytes kept of each of a box's stdout and stderr (rounded down to 512); output past it is dropped.</summary>
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

        if (string.IsNullOrWhiteSpace(CgroupParent) || CgroupParent.Contains("..", StringComparison.Ordinal) ||
            CgroupParent.StartsWith('/') || CgroupParent.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add($"CgroupParent must be a relative cgroup path without '..', not '{CgroupParent}'");
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
