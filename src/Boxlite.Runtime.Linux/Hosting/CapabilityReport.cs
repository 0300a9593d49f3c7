using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Hosting;

/// <summary>What this Linux host can and cannot do for boxes, each missing piece with its fix (G6).</summary>
internal static class CapabilityReport
{
    public static IReadOnlyList<CapabilityCheck> Build(
        CgroupLayout layout, LinuxTools tools, IReadOnlyList<ITreeReaper> reapers, ITreeReaper active, string activeOrigin, bool hasPidfd)
    {
        var checks = new List<CapabilityCheck>
        {
            layout.V2Mount is { } mount
                ? new("cgroup v2", true, layout.IsHybrid ? $"hybrid: v2 at {mount}, v1 controllers {string.Join(", ", layout.V1Mounts.Keys)}" : $"unified at {mount}")
                : new("cgroup v2", false, layout.BoxRootDetail, "mount cgroup2 (systemd.unified_cgroup_hierarchy=1, or mount -t cgroup2 none /sys/fs/cgroup/unified)"),
            new("box cgroups", layout.IsUsable, layout.BoxRootDetail,
                layout.IsUsable ? null : layout.IsRoot
                    ? "make the cgroup v2 hierarchy writable (not mounted read-only)"
                    : "run as root, or in a delegated subtree (systemd-run --user -p Delegate=yes --scope ...)"),
        };

        if (!layout.IsRoot)
        {
            checks.Add(new("cgroup delegation", layout.IsDelegated,
                layout.IsDelegated ? $"delegated subtree {layout.AnchorDirectory}" : "this user's cgroup is not delegated",
                layout.IsDelegated ? null : "enable delegation for user@.service (Delegate=yes), or run as root"));
        }

        checks.Add(new("cgroup.kill", layout.HasKill, layout.HasKill ? "present" : "missing", layout.HasKill ? null : "kernel 5.14 or newer"));
        checks.Add(new("cgroup.freeze", layout.HasFreeze, layout.HasFreeze ? "present" : "missing", layout.HasFreeze ? null : "kernel 5.2 or newer"));
        foreach (var controller in CgroupLayout.LimitControllers)
        {
            var support = layout.Support(controller);
            checks.Add(new($"{controller} limit", support.Backend != LimitBackend.None, support.Detail,
                support.Backend == LimitBackend.None ? $"enable or delegate the {controller} controller" : null));
        }

        checks.Add(new("pidfd", hasPidfd, hasPidfd ? "pidfd_open and pidfd_send_signal available" : "missing: signals fall back to an identity check before kill(2)",
            hasPidfd ? null : "kernel 5.3 or newer"));
        var userns = IsolationPlanner.UserNamespacesAllowed();
        checks.Add(new("user namespaces", userns, userns ? "allowed" : "disallowed (non-root PidNamespace isolation unavailable)",
            userns ? null : "sysctl -w user.max_user_namespaces=15000"));
        checks.Add(Tool("bwrap", tools.Bwrap, "bubblewrap", "Bubblewrap isolation"));
        checks.Add(Tool("unshare", tools.Unshare, "util-linux", "PidNamespace isolation"));
        checks.Add(Tool("nsenter", tools.Nsenter, "util-linux", "exec into namespaced boxes"));
        checks.Add(Tool("setpriv", tools.Setpriv, "util-linux", "exec into bubblewrap boxes without capabilities"));

        foreach (var reaper in reapers)
        {
            checks.Add(new($"reaper {reaper.Name}", reaper.Support.IsSupported, $"{reaper.Guarantee}: {reaper.Support.Reason}"));
        }

        checks.Add(new("active reaper", active.Guarantee == ReapGuarantee.WholeTree,
            $"{active.Name} ({active.Guarantee}, {activeOrigin}): {active.Support.Reason}",
            active.Guarantee == ReapGuarantee.WholeTree ? null : "run as root or with a delegated cgroup v2 subtree for a whole-tree reaper"));
        return checks;
    }

    private static CapabilityCheck Tool(string name, string? path, string package, string usedFor) =>
        path is not null
            ? new(name, true, $"{path} (for {usedFor})")
            : new(name, false, $"not found (needed for {usedFor})", $"apt-get install {package}");
}
