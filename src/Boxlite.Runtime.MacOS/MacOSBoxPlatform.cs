using System.Runtime.InteropServices;
using Boxlite.Runtime.MacOS.Interop;
using Boxlite.Runtime.MacOS.Isolation;
using Boxlite.Runtime.MacOS.Reaping;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime.MacOS;

/// <summary>
/// macOS: boxes in process groups kept by a keeper, isolated by a generated seatbelt profile through
/// <c>/usr/bin/sandbox-exec</c>. There are no cgroups, so the guarantee is the process group (see <see cref="Diagnose"/>).
/// </summary>
internal sealed partial class MacOSBoxPlatform : IBoxPlatform
{
    internal const string SandboxExec = "/usr/bin/sandbox-exec";
    internal const string Env = "/usr/bin/env";

    private readonly BoxliteOptions _options;
    private readonly MacOSOptions _macOptions;
    private readonly IProcessTable _table;
    private readonly IPathCanonicalizer _canonicalizer;
    private readonly ProcessGroupSweeper _sweeper;
    private readonly GroupKeepers _keepers;
    private readonly ProcessGroupReaper _reaper;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<ITreeReaper> _registeredReapers;
    private readonly TimeProvider _time;

    internal MacOSBoxPlatform(BoxliteOptions options, MacOSOptions macOptions, IProcessTable table, IPathCanonicalizer canonicalizer,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null, IReadOnlyList<ITreeReaper>? registeredReapers = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        _time = time;
        _options = options;
        _macOptions = macOptions;
        _table = table;
        _canonicalizer = canonicalizer;
        _sweeper = new ProcessGroupSweeper(table, time);
        _keepers = new GroupKeepers(table);
        _reaper = new ProcessGroupReaper(_sweeper, _keepers, time);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<MacOSBoxPlatform>();
        _registeredReapers = registeredReapers ?? [];
        Reaper = ReaperSelection.Select(options.Reaper, _registeredReapers, [_reaper], _logger);
    }

    public string Name => "macos";

    public bool IsCurrentOperatingSystem => OperatingSystem.IsMacOS();

    public ITreeReaper Reaper { get; }

    public ProcessIdentity CurrentProcess =>
        TryGetIdentity(Environment.ProcessId) ?? throw new InvalidOperationException("the process table does not show this process");

    public void EnsureSupported(BoxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Isolation is not (BoxIsolation.None or BoxIsolation.Seatbelt))
        {
            throw new PlatformCapabilityException($"isolation {options.Isolation} needs Linux namespaces, which macOS does not have",
                "use BoxIsolation.Seatbelt (or None) on macOS, or run the box on Linux");
        }

        EnsureLimitsSupported(options.Limits);
        // Checked against macOS's signals wherever this runs, so the refusal does not depend on the host.
        if (SignalNumbers.Of(options.StopSignal, mac: true) is null)
        {
            throw new PlatformCapabilityException($"macOS has no signal {options.StopSignal}", "choose another StopSignal, e.g. TERM");
        }

        var problems = _macOptions.Validate();
        if (problems.Count > 0)
        {
            throw new PlatformCapabilityException("invalid macOS options: " + string.Join("; ", problems), "fix the options passed to AddMacOS()");
        }

        foreach (var path in new[] { _options.HomeDirectory, options.WorkingDirectory, options.Command.StartsWith('/') ? options.Command : null })
        {
            if (path is not null && path.Any(char.IsControl))
            {
                throw new PlatformCapabilityException($"the path '{path.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a control character, which a seatbelt profile cannot express safely",
                    "use paths without control characters");
            }
        }

        if (!OperatingSystem.IsMacOS())
        {
            throw new PlatformCapabilityException($"the macOS platform cannot run boxes on {RuntimeInformation.OSDescription}", "use the Linux platform (AddLinux()) on Linux");
        }

        if (!_reaper.Support.IsSupported)
        {
            throw new PlatformCapabilityException(_reaper.Support.Reason, "install the Command Line Tools or restore /usr/bin/perl");
        }

        if (options.Isolation == BoxIsolation.Seatbelt && !File.Exists(SandboxExec))
        {
            throw new PlatformCapabilityException($"{SandboxExec} is missing", "restore sandbox-exec (part of macOS), or use BoxIsolation.None");
        }
    }

    /// <summary>Limits a macOS box cannot honour: there are no cgroups, and rlimits are per process or per user, not per box.</summary>
    internal static void EnsureLimitsSupported(BoxLimits limits)
    {
        if (limits.MemoryBytes is not null)
        {
            throw new PlatformCapabilityException("a memory limit cannot be enforced on macOS: there are no cgroups, and RLIMIT_AS/RLIMIT_DATA bound each process, not the box",
                "remove Limits.MemoryBytes, or run the box on Linux");
        }

        if (limits.Cpus is not null)
        {
            throw new PlatformCapabilityException("a CPU limit cannot be enforced on macOS: there are no cgroups, and RLIMIT_CPU bounds each process's total CPU time, not a share",
                "remove Limits.Cpus, or run the box on Linux");
        }

        if (limits.PidsMax is not null)
        {
            throw new PlatformCapabilityException("a process limit cannot be enforced on macOS: RLIMIT_NPROC counts every process of the user, not of the box",
                "remove Limits.PidsMax, or run the box on Linux");
        }
    }

    public async ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var containment = await _reaper.PrepareAsync(box, cancellationToken).ConfigureAwait(false);
        if (Reaper != _reaper)
        {
            // The keeper's group still carries signals and pauses; the custom reaper's containment is joined on top.
            var custom = await Reaper.PrepareAsync(box, cancellationToken).ConfigureAwait(false);
            containment = containment with { MonitorJoinFiles = custom.MonitorJoinFiles, CommandJoinFiles = custom.CommandJoinFiles };
        }

        // Every macOS monitor gets a session of its own: terminal signals (Ctrl-C, hang-up) would otherwise kill the
        // monitor and the keeper but not the box's group, and without a controlling terminal no box process can stop
        // on SIGTTIN. An attached box still dies with its host through the monitor's pipe.
        return new BoxLaunchPlan
        {
            Containment = containment,
            CommandPrefix = [.. GroupKeeperScript.KeeperPrefix(GroupKeepers.BoxKeeperFile(box)), .. IsolationPrefix(box), .. ApplyEnvironment],
            SessionPrefix = GroupKeeperScript.SessionPrefix,
        };
    }

    public ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        // A process cannot join a group of another session, so an exec gets a keeper and group of its own, registered
        // next to the box's: the box's reap sweeps it too.
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(box));
        return ValueTask.FromResult(new BoxLaunchPlan
        {
            CommandPrefix = [.. GroupKeeperScript.KeeperPrefix(GroupKeepers.NewExecKeeperFile(box)), .. IsolationPrefix(box), .. ApplyEnvironment],
        });
    }

    /// <summary>
    /// The innermost wrapper: applies the box's environment block right before it execs the command, inside the
    /// sandbox, so neither the keeper nor sandbox-exec runs with the box's variables.
    /// </summary>
    internal static readonly string[] ApplyEnvironment = ["/bin/sh", "-c", BoxLaunchPlan.ApplyEnvironment, "boxlite-command"];

    /// <summary>The argv that isolates the command: nothing, or sandbox-exec with the box's profile.</summary>
    internal IReadOnlyList<string> IsolationPrefix(BoxContext box)
    {
        if (box.Info.Isolation != BoxIsolation.Seatbelt)
        {
            return [];
        }

        var temp = Path.Combine(box.Directory, "tmp");
        Directory.CreateDirectory(temp);
        var prefix = new List<string>();
        if (!box.Info.Options.Environment.ContainsKey("TMPDIR"))
        {
            prefix.AddRange([Env, "TMPDIR=" + temp]);
        }

        prefix.Add(SandboxExec);
        if (_macOptions.ProfilePath is { } custom)
        {
            prefix.AddRange(["-f", _canonicalizer.Canonicalize(custom),
                "-D", "BOX_DIR=" + _canonicalizer.Canonicalize(box.WorkDirectory), "-D", "BOX_TMP=" + _canonicalizer.Canonicalize(temp)]);
        }
        else
        {
            var profile = SeatbeltProfile.Generate(PolicyFor(box, temp), _canonicalizer);
            LogProfile(box.Id, profile.Length, _macOptions.AllowNetwork);
            prefix.AddRange(["-p", profile]);
        }

        prefix.Add("--");
        return prefix;
    }

    internal SeatbeltPolicy PolicyFor(BoxContext box, string temp)
    {
        var options = box.Info.Options;
        var reads = new List<string>(_macOptions.ReadOnlyPaths);
        if (options.Command.StartsWith('/'))
        {
            reads.Add(options.Command);
        }

        if (options.WorkingDirectory is { } workdir)
        {
            reads.Add(workdir);
        }

        return new SeatbeltPolicy
        {
            WorkDirectory = box.WorkDirectory,
            TempDirectory = temp,
            ReadPaths = reads,
            WritePaths = [.. _macOptions.WritablePaths],
            AllowNetwork = _macOptions.AllowNetwork,
        };
    }

    public ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        if (TryGetIdentity(monitorPid) is null)
        {
            throw new BoxStartException(box.Id, $"the box monitor (pid {monitorPid}) is gone");
        }

        // Containment on macOS begins with the keeper's group, which the monitor creates after the handshake; what
        // can be checked now is the session the monitor was given.
        if (LibSystem.GetSid(monitorPid) != monitorPid)
        {
            throw new BoxStartException(box.Id, $"the box monitor (pid {monitorPid}) does not lead a session of its own; terminal signals could orphan the box");
        }

        return ValueTask.CompletedTask;
    }

    public ProcessIdentity? TryGetIdentity(int pid) =>
        _table.Get(pid) is { IsZombie: false } entry ? new ProcessIdentity(entry.Pid, entry.StartTime, _table.BootId) : null;

    public bool IsAlive(ProcessIdentity identity) => _sweeper.IsRunning(identity);

    /// <summary>
    /// A bounded poll of the process table (5 ms, doubling to 100 ms). kqueue's <c>EVFILT_PROC</c>/<c>NOTE_EXIT</c>
    /// would notice the exit without polling, but it cannot be tested on the Linux hosts that build this package.
    /// </summary>
    public async Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(5);
        while (IsAlive(identity))
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 100));
        }
    }

    public ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var number = SignalNumbers.Of(signal) ?? throw new PlatformCapabilityException($"macOS has no signal {signal}", "choose another signal, e.g. TERM");
        var keeper = _keepers.Find(box).FirstOrDefault(k => k.Registration.IsBoxKeeper);
        if (keeper is null)
        {
            return ValueTask.FromResult(0);
        }

        // With a group, the command is the keeper's only child; without one the keeper became the command.
        var command = keeper.Registration.LeadsGroup
            ? _table.ListChildren(keeper.Identity.Pid).Select(_table.Get).FirstOrDefault(e => e is { IsZombie: false } && e.ParentPid == keeper.Identity.Pid)
            : _table.Get(keeper.Identity.Pid);
        var delivered = command is not null && _sweeper.TrySignal(new ProcessIdentity(command.Pid, command.StartTime, _table.BootId), number);
        return ValueTask.FromResult(delivered ? 1 : 0);
    }

    public ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var signal = frozen ? SignalNumbers.Stop : SignalNumbers.Continue;
        foreach (var keeper in _keepers.Find(box))
        {
            _ = keeper.Registration.LeadsGroup ? _sweeper.TrySignalGroup(keeper.Identity, signal) : _sweeper.TrySignal(keeper.Identity, signal);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        // CPU and memory of a whole box need an accounting container macOS does not have; only the count is honest.
        return ValueTask.FromResult(new BoxMetrics(null, null, null, _reaper.Processes(box).Count));
    }

    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken)
    {
        var boxes = new List<BoxId>();
        var root = Path.Combine(_options.HomeDirectory, "boxes");
        if (Directory.Exists(root))
        {
            foreach (var directory in Directory.EnumerateDirectories(root))
            {
                if (BoxId.TryParse(Path.GetFileName(directory), out var id) &&
                    GroupKeepers.Registrations(directory).Any(r => _keepers.Prove(r, monitor: null) is not null))
                {
                    boxes.Add(id);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<BoxId>>(boxes);
    }

    public IReadOnlyList<CapabilityCheck> Diagnose()
    {
        var perl = _reaper.Support;
        return
        [
            new("platform", IsCurrentOperatingSystem, IsCurrentOperatingSystem ? "macOS" : $"not macOS ({RuntimeInformation.OSDescription})",
                IsCurrentOperatingSystem ? null : "use the Linux platform (AddLinux()) on Linux"),
            new("reaper", perl.IsSupported, $"{ProcessGroupReaper.MethodName}: guarantee = process group; {perl.Reason}",
                perl.IsSupported ? null : "restore /usr/bin/perl"),
            new("active reaper", Reaper.Support.IsSupported,
                $"{Reaper.Name} ({Reaper.Guarantee}, {ReaperSelection.Origin(Reaper, _registeredReapers)}): {Reaper.Support.Reason}"),
            new("whole-tree reaping", false, "macOS has no cgroups: a process that leaves the box's process group (setsid, setpgid) is not reaped",
                "run boxes that must be torn down completely on Linux with cgroup v2"),
            new("seatbelt isolation", File.Exists(SandboxExec), File.Exists(SandboxExec) ? $"{SandboxExec} present" : $"{SandboxExec} missing",
                File.Exists(SandboxExec) ? null : "restore sandbox-exec (part of macOS), or use BoxIsolation.None"),
            new("resource limits", false, "memory, CPU and process limits cannot be enforced per box on macOS (no cgroups)", "run boxes that need limits on Linux"),
        ];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Box {BoxId}: seatbelt profile of {Length} characters generated (network {AllowNetwork})")]
    private partial void LogProfile(BoxId boxId, int length, bool allowNetwork);
}
