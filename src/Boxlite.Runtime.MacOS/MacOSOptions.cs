namespace Boxlite.Runtime.MacOS;

/// <summary>Settings of the macOS platform: what a seatbelt box may reach. Configure with <c>AddMacOS(o =&gt; …)</c>.</summary>
public sealed class MacOSOptions
{
    /// <summary>
    /// Whether seatbelt boxes may use the network; default true. The same box options must mean the same thing on
    /// every platform, and the Linux isolations keep the host network, so the seatbelt guards the file system and
    /// turning the network off is an explicit choice.
    /// </summary>
    public bool AllowNetwork { get; set; } = true;

    /// <summary>
    /// An absolute path to a seatbelt profile used instead of the generated one. It runs through
    /// <c>sandbox-exec -f</c> with the parameters <c>BOX_DIR</c> (the box's work directory) and <c>BOX_TMP</c> (its temp
    /// directory); read them with <c>(param "BOX_DIR")</c>. The rest of the box directory holds the box's control files:
    /// a profile should not let the box write there.
    /// </summary>
    public string? ProfilePath { get; set; }

    /// <summary>More absolute paths a seatbelt box may read (the system locations are always readable).</summary>
    public IList<string> ReadOnlyPaths { get; } = [];

    /// <summary>More absolute paths a seatbelt box may read and write (its work directory and temp always are).</summary>
    public IList<string> WritablePaths { get; } = [];

    /// <summary>Every problem of these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ProfilePath is not null)
        {
            if (!IsAbsolute(ProfilePath))
            {
                problems.Add($"ProfilePath must be an absolute path without control characters, not '{ProfilePath}'");
            }
            else if (!File.Exists(ProfilePath))
            {
                problems.Add($"ProfilePath '{ProfilePath}' does not exist");
            }
        }

        foreach (var path in ReadOnlyPaths.Concat(WritablePaths))
        {
            if (!IsAbsolute(path))
            {
                problems.Add($"'{path}' must be an absolute path without control characters");
            }
        }

        return problems;
    }

    internal static bool IsAbsolute(string? path) =>
        !string.IsNullOrEmpty(path) && path[0] == '/' && !path.Any(char.IsControl);
}
