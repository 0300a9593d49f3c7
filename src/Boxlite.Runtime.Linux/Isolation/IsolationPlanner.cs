using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Isolation;

/// <summary>The argv that isolates a box's command, and the one that enters a running box's namespaces.</summary>
internal sealed class IsolationPlanner(LinuxTools tools, bool isRoot)
{
    // The first process of a fresh PID namespace ignores every signal it has no handler for, so a plain command
    // there would never see its stop signal. A shell stays pid 1 (reaping orphans) and runs the wrapper, and so the
    // command, as pid 2 in the foreground; "exit $?" keeps sh from exec'ing its last command in place. The wrapper
    // records the command's namespace pid in a fresh file (noclobber), then applies the box's environment and execs it.
    private const string NamespaceInit =
        "s=$0; f=$1; shift; \"$s\" -c 'set -C; echo $$ >\"$0\" || exit 125; " + BoxLaunchPlan.ApplyEnvironment + "' \"$f\" \"$@\"; exit $?";

    // bubblewrap's own pid 1 waits for every process of the namespace, so a daemon the command left would keep the
    // namespace alive after the command (and so the monitor) ended, with nothing left that knows it is the box's. With
    // --as-pid-1 a shell is pid 1 instead, as under unshare, and the namespace ends with the command. (The control
    // directory is out of sight inside: no namespace pid is recorded.)
    private const string SandboxInit = "\"$0\" -c '" + BoxLaunchPlan.ApplyEnvironment + "' boxlite-command \"$@\"; exit $?";

    /// <summary>Throws <see cref="PlatformCapabilityException"/> when <paramref name="isolation"/> cannot be provided here.</summary>
    public void EnsureSupported(BoxIsolation isolation)
    {
        _ = LinuxTools.Require(tools.Shell, "sh", "dash", "to run the box monitor");
        switch (isolation)
        {
            case BoxIsolation.None:
                break;
            case BoxIsolation.PidNamespace:
                _ = LinuxTools.Require(tools.Unshare, "unshare", "util-linux", "for PidNamespace isolation");
                if (!isRoot && !UserNamespacesAllowed())
                {
                    throw new PlatformCapabilityException(
                        "PidNamespace isolation as non-root needs user namespaces, which this kernel disallows",
                        "set sysctl user.max_user_namespaces > 0 (and kernel.unprivileged_userns_clone=1 where it exists), or run as root");
                }

                break;
            case BoxIsolation.Bubblewrap:
                _ = LinuxTools.Require(tools.Bwrap, "bwrap", "bubblewrap", "for Bubblewrap isolation");
                break;
            default:
                throw new PlatformCapabilityException(
                    $"isolation {isolation} is not available on Linux",
                    "use BoxIsolation.None, PidNamespace or Bubblewrap");
        }
    }

    /// <summary>The argv placed before the box's environment block and command; its wrapper applies the block.</summary>
    public BoxLaunchPlan Plan(BoxContext box, BoxLaunchPlan plan)
    {
        var options = box.Info.Options;
        EnsureSupported(options.Isolation);
        switch (options.Isolation)
        {
            case BoxIsolation.PidNamespace:
                List<string> unshare = [tools.Unshare!];
                if (!isRoot)
                {
                    unshare.Add("--map-root-user");
                }

                unshare.AddRange(["--pid", "--fork", "--mount-proc", "--"]);
                return plan with { CommandPrefix = [.. unshare, tools.Shell!, "-c", NamespaceInit, tools.Shell!, box.CommandNamespacePidFile] };

            case BoxIsolation.Bubblewrap:
                return plan with { CommandPrefix = [.. Bubblewrap(box), tools.Shell!, "-c", SandboxInit, tools.Shell!] };

            default:
                return plan;
        }
    }

    /// <summary>
    /// A real boundary: new PID, IPC and UTS namespaces and session, no capabilities (root keeps them all otherwise), the
    /// system read-only, a private /tmp, the Boxlite home hidden (no database, no other box, no control files of its
    /// own), and only the work directory (and an explicit working directory) writable.
    /// </summary>
    private List<string> Bubblewrap(BoxContext box)
    {
        var options = box.Info.Options;

        // The box directory is <home>/boxes/<id>.
        var home = Path.GetDirectoryName(Path.GetDirectoryName(box.Directory))!;
        List<string> bwrap =
        [
            tools.Bwrap!, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        ];
        if (options.WorkingDirectory is { } wd)
        {
            bwrap.AddRange(["--bind", wd, wd]);
        }

        bwrap.AddRange(["--tmpfs", home, "--bind", box.WorkDirectory, box.WorkDirectory]);
        if (!isRoot)
        {
            // Without root bwrap makes a user namespace; for any uid but 0 inside, it nests a second one to mount /dev,
            // and the box's namespaces then belong to a user namespace no exec can enter. Mapped to 0 (as unshare's
            // --map-root-user does) there is one, and the box holds no capability in it (--cap-drop ALL).
            bwrap.AddRange(["--uid", "0", "--gid", "0"]);
        }

        if (!options.Detached)
        {
            // An attached box dies with its monitor; a detached one must survive any parent.
            bwrap.Add("--die-with-parent");
        }

        bwrap.AddRange(["--as-pid-1", "--chdir", box.CommandDirectory, "--"]);
        return bwrap;
    }

    /// <summary>
    /// The argv that makes an exec'd process enter the namespaces of the box's command (host pid
    /// <paramref name="commandPid"/>) and, inside them, apply the box's environment block and exec the command.
    /// </summary>
    public IReadOnlyList<string> EnterPrefix(BoxIsolation isolation, int commandPid)
    {
        if (isolation is not (BoxIsolation.PidNamespace or BoxIsolation.Bubblewrap))
        {
            return [];
        }

        var nsenter = LinuxTools.Require(tools.Nsenter, "nsenter", "util-linux", "to exec into a namespaced box");
        var pid = commandPid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] apply = [tools.Shell!, "-c", BoxLaunchPlan.ApplyEnvironment, "boxlite-exec"];
        List<string> enter = [nsenter, "--target", pid];

        // A box started without root (unshare --map-root-user) owns its namespaces through a user namespace of its
        // own: entering that one first gives the right to enter the rest. The credentials stay as they are (they map
        // to the box's own user there); taking on the namespace's root would need setgroups, which it denies.
        if (BoxProcesses.TryReadLink($"/proc/{pid}/ns/user") is { } user && user != BoxProcesses.TryReadLink("/proc/self/ns/user"))
        {
            enter.AddRange(["--user", "--preserve-credentials"]);
        }

        // nsenter forks after entering the PID namespace, so the exec'd command is born inside it, in the directory the
        // box's command works in (--wd).
        if (isolation == BoxIsolation.PidNamespace)
        {
            return [.. enter, "--pid", "--mount", "--wd", "--", .. apply];
        }

        // In a bubblewrap box it gets no more capability than the box's own processes: root would keep them all, and
        // entering the box's user namespace grants them all in it.
        string[] dropCapabilities =
            [LinuxTools.Require(tools.Setpriv, "setpriv", "util-linux", "to exec into a bubblewrap box without capabilities"), "--bounding-set=-all", "--inh-caps=-all", "--"];
        return [.. enter, "--pid", "--mount", "--ipc", "--uts", "--wd", "--", .. dropCapabilities, .. apply];
    }

    /// <summary>True when this kernel lets unprivileged users create user namespaces.</summary>
    public static bool UserNamespacesAllowed()
    {
        var max = File.Exists("/proc/sys/user/max_user_namespaces") ? File.ReadAllText("/proc/sys/user/max_user_namespaces").Trim() : "1";
        var clone = File.Exists("/proc/sys/kernel/unprivileged_userns_clone") ? File.ReadAllText("/proc/sys/kernel/unprivileged_userns_clone").Trim() : "1";
        return max != "0" && clone != "0";
    }
}
