using System.Security.Cryptography;
using System.Text;

namespace Boxlite.Runtime.Linux;

/// <summary>
/// Settings of the Linux platform. Configure with <c>AddLinux(o =&gt; …)</c>, or in the <c>Linux</c> sub-section of the
/// Boxlite configuration section (<c>Boxlite:Linux:CgroupParent</c>).
/// </summary>
public sealed class LinuxOptions
{
    /// <summary>
    /// The cgroup under which box cgroups are created (as root), relative to the cgroup mount. Null (the default): <c>boxlite-</c>
    /// and 12 hex digits of the SHA-256 of the home's fully resolved path, so each home has its own parent, however it is
    /// spelled, and recovering one home never touches the boxes of another. Never share one between homes.
    /// </summary>
    public string? CgroupParent { get; set; }

    /// <summary>Every problem of these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (CgroupParent is { } parent &&
            (string.IsNullOrWhiteSpace(parent) || parent.Contains("..", StringComparison.Ordinal) || parent.StartsWith('/') || parent.Contains('\0', StringComparison.Ordinal)))
        {
            problems.Add($"CgroupParent must be a relative cgroup path without '..', not '{parent}'");
        }

        return problems;
    }

    /// <summary>The cgroup parent of the home whose fully resolved path is <paramref name="resolvedHome"/>.</summary>
    internal string CgroupParentFor(string resolvedHome) =>
        CgroupParent ?? "boxlite-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resolvedHome)))[..12];
}
