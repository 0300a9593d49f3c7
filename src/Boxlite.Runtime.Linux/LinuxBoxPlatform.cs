using System.Globalization;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Hosting;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Linux.Monitor;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Linux.Reaping;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime.Linux;

/// <summary>
/// The Linux platform: each box in its own cgroup (joined by the monitor before it forks anything), isolated by
/// <c>unshare</c> or <c>bwrap</c>, reaped by the best reaper this host supports.
/// </summary>
internal sealed class LinuxBoxPlatform : IBoxPlatform, IContainmentLocator
{
    private readonly BoxCgroups _cgroups;
    private readonly LinuxTools _tools;
    private readonly IsolationPlanner _isolation;
    private readonly TimeProvider _time;
    private readonly TimeSpan _freezeTimeout;
    private readonly IReadOnlyList<ITreeReaper> _registeredReapers;
    private readonly Lazy<string> _monitor;

    internal LinuxBoxPlatform(BoxliteOptions options, LinuxOptions linuxOptions, IReadOnlyList<ITreeReaper> registeredReapers,
        ICgroupFileSystem fs, LinuxTools tools, TimeProvider time, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        var isRoot = Libc.geteuid() == 0;
        var layout = CgroupDiscovery.Discover(fs, linuxOptions.CgroupParentFor(options.ResolvedHomeDirectory), isRoot, CgroupDiscovery.RunningKernel());
        Hosting.Log.Layout(logger, layout.V2Mount, layout.BoxRoot, layout.HasKill, layout.HasFreeze, layout.V1Mounts.Keys);
        _cgroups = new BoxCgroups(layout, fs);
        _tools = tools;
        _isolation = new IsolationPlanner(tools, isRoot);
        _time = time;
        _freezeTimeout = options.ReapTimeout;
        _registeredReapers = registeredReapers;

        // Installed on first use, when the home is known to be prepared; a failure is thrown again to the next caller.
        var home = options.ResolvedHomeDirectory;
        _monitor = new Lazy<string>(() => MonitorBinary.Install(home), LazyThreadSafetyMode.PublicationOnly);
        BuiltInReapers =
        [
            new CgroupKillReaper(_cgroups, time),
            new CgroupFreezeKillReaper(_cgroups, time),
            new PidNamespaceInitReaper(tools, time),
            new SinglePidReaper(time),
        ];
        Reaper = ReaperSelection.Select(options.Reaper, registeredReapers, BuiltInReapers, logger);
        CurrentProcess = ProcessSignaller.TryGetIdentity(Environment.ProcessId)
            ?? throw new InvalidOperationException("cannot read this process's identity from /proc");
    }

    public string Name => "linux";

    public bool IsCurrentOperatingSystem => OperatingSystem.IsLinux();

    public ITreeReaper Reaper { get; }

    /// <summary>The reapers of this platform, best first (the host may register more).</summary>
    internal IReadOnlyList<ITreeReaper> BuiltInReapers { get; }

    internal CgroupLayout Layout => _cgroups.Layout;

    public ProcessIdentity CurrentProcess { get; }

    private bool UsesCgroup => Reaper is CgroupReaper;

    /// <summary>True when the active reaper is one the host registered: its containment is its own business.</summary>
    private bool UsesCustomReaper => _registeredReapers.Contains(Reaper);

    public void EnsureSupported(BoxOptions options)
    {
        _ = _monitor.Value;
        _isolation.EnsureSupported(options.Isolation);
        if (Reaper is PidNamespaceInitReaper && options.Isolation == BoxIsolation.None)
        {
            throw new PlatformCapabilityException(
                "the pidns-init reaper can only reap boxes with a private PID namespace; this box has isolation None",
                "use BoxIsolation.PidNamespace or Bubblewrap, or a cgroup reaper (run as root or with a delegated cgroup v2 subtree)");
        }

        if (!options.Limits.IsEmpty)
        {
            if (!UsesCgroup)
            {
                throw new PlatformCapabilityException(
                    $"resource limits need a cgroup, and the active reaper {Reaper.Name} uses none",
                    "run as root or with a delegated cgroup v2 subtree and a cgroup reaper, or drop the limits");
            }

            _cgroups.EnsureLimitsSupported(options.Limits, options.Isolation);
        }
    }

    public async ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        EnsureSupported(box.Info.Options);
        var containment = await Reaper.PrepareAsync(box, cancellationToken).ConfigureAwait(false);
        return _isolation.Plan(box, new BoxLaunchPlan { Containment = containment, MonitorProgram = _monitor.Value });
    }

    public async ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken)
    {
        if (UsesCustomReaper)
        {
            // What a custom reaper contains is what it lists: the monitor must be among the box's processes already.
            var processes = await Reaper.ListProcessesAsync(box, cancellationToken).ConfigureAwait(false);
            if (!processes.Any(p => p.Pid == monitorPid))
            {
                throw new BoxStartException(box.Id, $"the monitor (pid {monitorPid}) is not among the processes the reaper {Reaper.Name} lists for the box");
            }

            return;
        }

        if (!UsesCgroup)
        {
            return;
        }

        var expected = _cgroups.Of(box.Info).MonitorDirectory;
        var actual = ProcFs.ReadCgroupV2Path(monitorPid);
        var procs = ProcFs.ParsePids(_cgroups.FileSystem.TryRead(Path.Combine(expected, "cgroup.procs")));
        if (!procs.Contains(monitorPid))
        {
            throw new BoxStartException(box.Id,
                $"the monitor (pid {monitorPid}) is not in its box cgroup {expected} (its cgroup: {actual ?? "unknown"})");
        }
    }

    public ProcessIdentity? TryGetIdentity(int pid) => ProcessSignaller.TryGetIdentity(pid);

    public bool IsAlive(ProcessIdentity identity) => ProcessSignaller.IsAlive(identity);

    public Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken) =>
        ExitWatcher.Shared.WhenExited(identity).WaitAsync(cancellationToken);

    public ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken)
    {
        var number = LinuxSignals.Parse(signal);
        var command = FindCommand(box);
        return ValueTask.FromResult(command is not null && ProcessSignaller.TrySignal(command, number) ? 1 : 0);
    }

    public async ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken)
    {
        if (!UsesCgroup || !_cgroups.Layout.HasFreeze)
        {
            throw new PlatformCapabilityException(
                "pausing a box needs the cgroup v2 freezer (cgroup.freeze), which is not usable here",
                "run on kernel 5.2+ as root or with a delegated cgroup v2 subtree");
        }

        var dir = _cgroups.Of(box.Info).Directory;
        var fs = _cgroups.FileSystem;
        var value = frozen ? "1" : "0";
        fs.Write(Path.Combine(dir, "cgroup.freeze"), value);
        if (!await CgroupEventWaiter.WaitAsync(fs, Path.Combine(dir, "cgroup.events"), "frozen", value, _freezeTimeout, _time, cancellationToken)
                .ConfigureAwait(false))
        {
            throw new TimeoutException($"box {box.Id} did not report frozen {value} within {_freezeTimeout.TotalSeconds:F0} s");
        }
    }

    public async ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken)
    {
        if (!UsesCgroup)
        {
            var processes = await Reaper.ListProcessesAsync(box, cancellationToken).ConfigureAwait(false);
            return new BoxMetrics(null, null, null, processes.Count);
        }

        var fs = _cgroups.FileSystem;
        var cgroup = _cgroups.Of(box.Info);
        var dir = cgroup.Directory;
        TimeSpan? cpu = ReadLong(fs.TryRead(Path.Combine(dir, "cpu.stat")), "usage_usec") is { } usec
            ? TimeSpan.FromMicroseconds(usec)
            : null;
        var memory = ReadLong(fs.TryRead(Path.Combine(dir, "memory.current")));
        var peak = ReadLong(fs.TryRead(Path.Combine(dir, "memory.peak")));
        if (memory is null && cgroup.V1Directories.TryGetValue("memory", out var v1Memory))
        {
            memory = ReadLong(fs.TryRead(Path.Combine(v1Memory, "memory.usage_in_bytes")));
            peak = ReadLong(fs.TryRead(Path.Combine(v1Memory, "memory.max_usage_in_bytes")));
        }

        return new BoxMetrics(cpu, memory, peak, _cgroups.ReadProcesses(cgroup).Count);
    }

    public async ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken)
    {
        var join = new List<string>();
        if (UsesCustomReaper)
        {
            // Preparing is idempotent for a reaper: asked again, it names the files a process of the running box joins.
            var containment = await Reaper.PrepareAsync(box, cancellationToken).ConfigureAwait(false);
            join.AddRange(containment.CommandJoinFiles.Count > 0 ? containment.CommandJoinFiles : containment.MonitorJoinFiles);
        }
        else if (UsesCgroup)
        {
            var cgroup = _cgroups.Of(box.Info);
            if (!_cgroups.FileSystem.Exists(cgroup.CommandDirectory))
            {
                throw new InvalidBoxStateException(box.Id, box.Info.State, "its cgroup is gone, so nothing can be executed in it");
            }

            join.Add(Path.Combine(cgroup.CommandDirectory, "cgroup.procs"));
            join.AddRange(cgroup.V1Directories.Values.Distinct().Where(_cgroups.FileSystem.Exists).Select(d => Path.Combine(d, "cgroup.procs")));
        }

        IReadOnlyList<string> prefix = [];
        if (box.Info.Isolation is BoxIsolation.PidNamespace or BoxIsolation.Bubblewrap)
        {
            var command = FindCommand(box)
                ?? throw new InvalidBoxStateException(box.Id, box.Info.State, "its command is not running, so its namespaces cannot be entered");
            prefix = _isolation.EnterPrefix(box.Info.Isolation, command.Pid);
        }

        return new BoxLaunchPlan
        {
            Containment = new BoxContainment { CommandJoinFiles = join },
            CommandPrefix = prefix,
            MonitorProgram = _monitor.Value,
        };
    }

    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken)
    {
        var layout = _cgroups.Layout;
        var roots = new List<string>();
        if (layout.BoxRoot is not null)
        {
            roots.Add(layout.BoxRoot);
        }

        if (layout.IsRoot)
        {
            roots.AddRange(layout.V1Mounts.Values.Distinct().Select(m => Path.Combine(m, layout.Parent)));
        }

        var ids = new HashSet<BoxId>();
        foreach (var root in roots)
        {
            foreach (var name in _cgroups.FileSystem.ListDirectories(root))
            {
                if (BoxId.TryParse(name, out var id))
                {
                    ids.Add(id);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<BoxId>>([.. ids]);
    }

    public IReadOnlyList<CapabilityCheck> Diagnose() =>
        [.. CapabilityReport.Build(_cgroups.Layout, _tools, [.. _registeredReapers, .. BuiltInReapers], Reaper, ReaperSelection.Origin(Reaper, _registeredReapers), ProcessSignaller.HasPidfd), MonitorCheck()];

    /// <inheritdoc />
    public string? Locate(BoxId id) => UsesCgroup ? _cgroups.Layout.CgroupPath(id) : null;

    /// <inheritdoc />
    public int RemoveEmptyParents() => UsesCgroup ? _cgroups.RemoveEmptyParents() : 0;

    /// <summary>
    /// The box's command, found from the live recorded monitor through the process tree: for namespaced isolation the
    /// first child of the box's namespace init; otherwise the monitor's child in the command's cgroup (without a cgroup,
    /// the child <c>child.pid</c> names, still only among the monitor's own children).
    /// </summary>
    private ProcessIdentity? FindCommand(BoxContext box)
    {
        if (BoxProcesses.Monitor(box) is not { } monitor)
        {
            return null;
        }

        if (box.Info.Isolation is BoxIsolation.PidNamespace or BoxIsolation.Bubblewrap)
        {
            return BoxProcesses.NamespacedCommand(monitor);
        }

        if (!UsesCgroup)
        {
            return BoxProcesses.Launcher(box);
        }

        var procs = ProcFs.ParsePids(_cgroups.FileSystem.TryRead(Path.Combine(_cgroups.Of(box.Info).CommandDirectory, "cgroup.procs")));
        return BoxProcesses.ChildrenOf(monitor).FirstOrDefault(c => procs.Contains(c.Pid));
    }

    private CapabilityCheck MonitorCheck()
    {
        try
        {
            return new("box monitor", true, _monitor.Value);
        }
        catch (PlatformCapabilityException e)
        {
            return new("box monitor", false, e.Message, e.Fix);
        }
    }

    private static long? ReadLong(string? text, string? key = null)
    {
        var value = text is null ? null : key is null ? text.Trim() : CgroupEventWaiter.ReadKey(text, key);
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }
}
