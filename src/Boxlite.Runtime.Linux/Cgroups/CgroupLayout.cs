namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>Where a resource limit can be enforced on this host.</summary>
internal enum LimitBackend
{
    /// <summary>Nowhere: the limit cannot be enforced.</summary>
    None = 0,

    /// <summary>The v2 controller of the box cgroup.</summary>
    V2 = 1,

    /// <summary>A v1 controller hierarchy (hybrid hosts).</summary>
    V1 = 2,
}

/// <summary>One controller's availability for box limits.</summary>
/// <param name="Backend">Where it is enforced.</param>
/// <param name="Detail">What was found, or why it is unavailable.</param>
internal sealed record ControllerSupport(LimitBackend Backend, string Detail);

/// <summary>What cgroup discovery found on this host: the v2 hierarchy, the v1 controllers, and where boxes live.</summary>
internal sealed record CgroupLayout
{
    /// <summary>The controllers box limits use.</summary>
    internal static readonly string[] LimitControllers = ["memory", "cpu", "pids"];

    /// <summary>Mount point of the v2 hierarchy, or null when there is none.</summary>
    public string? V2Mount { get; init; }

    /// <summary>True when the v2 hierarchy is mounted read-only.</summary>
    public bool V2ReadOnly { get; init; }

    /// <summary>v1 controller name → mount point (hybrid and v1-only hosts).</summary>
    public IReadOnlyDictionary<string, string> V1Mounts { get; init; } = new Dictionary<string, string>();

    /// <summary>The directory under which box cgroups are created, or null when there is no usable one.</summary>
    public string? BoxRoot { get; init; }

    /// <summary>The existing cgroup from which the box root is created and controllers are enabled downwards.</summary>
    public string? AnchorDirectory { get; init; }

    /// <summary>Why there is no box root, or how it was chosen.</summary>
    public required string BoxRootDetail { get; init; }

    /// <summary>The configured parent (relative path) of box cgroups.</summary>
    public required string Parent { get; init; }

    /// <summary>v2 controllers available at the anchor (its <c>cgroup.controllers</c>).</summary>
    public IReadOnlySet<string> V2Controllers { get; init; } = new HashSet<string>();

    /// <summary>True when the anchor holds processes, so no controller can be enabled below it (no-internal-processes rule).</summary>
    public bool AnchorHasProcesses { get; init; }

    /// <summary>True when cgroups have <c>cgroup.kill</c> (kernel 5.14+).</summary>
    public bool HasKill { get; init; }

    /// <summary>True when cgroups have <c>cgroup.freeze</c> (kernel 5.2+).</summary>
    public bool HasFreeze { get; init; }

    /// <summary>True when the box root is a delegated subtree (non-root).</summary>
    public bool IsDelegated { get; init; }

    /// <summary>True when the process runs as root.</summary>
    public bool IsRoot { get; init; }

    /// <summary>True when boxes get a v2 cgroup.</summary>
    public bool IsUsable => BoxRoot is not null;

    /// <summary>True when the v2 hierarchy sits beside v1 controller hierarchies.</summary>
    public bool IsHybrid => V2Mount is not null && V1Mounts.Count > 0;

    /// <summary>Where a limit through <paramref name="controller"/> (<c>memory</c>, <c>cpu</c>, <c>pids</c>) is enforced.</summary>
    public ControllerSupport Support(string controller)
    {
        if (!IsUsable)
        {
            return new(LimitBackend.None, $"no usable cgroup v2 hierarchy: {BoxRootDetail}");
        }

        if (V2Controllers.Contains(controller) && !AnchorHasProcesses)
        {
            return new(LimitBackend.V2, $"v2 {controller} controller");
        }

        if (V1Mounts.TryGetValue(controller, out var mount))
        {
            return IsRoot
                ? new(LimitBackend.V1, $"v1 {controller} controller at {mount}")
                : new(LimitBackend.None, $"the v1 {controller} controller at {mount} is writable only by root");
        }

        return V2Controllers.Contains(controller)
            ? new(LimitBackend.None, $"the v2 {controller} controller cannot be enabled below {AnchorDirectory}: it holds processes (no-internal-processes rule)")
            : new(LimitBackend.None, $"the {controller} controller is not available in cgroup v2 (at {AnchorDirectory}) nor mounted as v1");
    }

    /// <summary>The v2 directory of a box.</summary>
    public string BoxDirectory(BoxId id) => Path.Combine(BoxRoot ?? throw new InvalidOperationException("no box root"), id.Value);

    /// <summary>The cgroup path of a box (<c>/&lt;parent&gt;/&lt;id&gt;</c>, as <c>/proc/&lt;pid&gt;/cgroup</c> writes it).</summary>
    public string CgroupPath(BoxId id) => "/" + Path.GetRelativePath(V2Mount!, BoxDirectory(id));

    /// <summary>The v2 directory of the cgroup at <paramref name="cgroupPath"/>.</summary>
    public string V2Directory(string cgroupPath) => V2Mount + cgroupPath;

    /// <summary>The directory of the cgroup at <paramref name="cgroupPath"/> in <paramref name="controller"/>'s v1 hierarchy.</summary>
    public string V1Directory(string controller, string cgroupPath) => V1Mounts[controller] + cgroupPath;
}
