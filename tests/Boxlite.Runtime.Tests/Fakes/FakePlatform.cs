using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Logging.Abstractions;

namespace Boxlite.Runtime.Tests.Fakes;

/// <summary>
/// Real processes, no root: each monitor leads a session of its own (setsid) and the "containment" is its process
/// group, registered in the box directory (<see cref="GroupFile"/>) once the monitor is verified. Enough to exercise
/// the whole lifecycle, the monitor and the store without cgroups. A group is signalled only when it is proven the
/// box's: its leader is the registered process (pid and start time), or the leader is gone and its pid, still the
/// group's id, cannot have been reused.
/// </summary>
internal sealed class FakePlatform : IBoxPlatform
{
    private readonly string? _boxesDirectory;
    private readonly ConcurrentDictionary<BoxId, bool> _frozen = new();
    private int _reaps;

    /// <param name="boxesDirectory">Where box directories live, so that <see cref="ListContainedBoxesAsync"/> finds registered groups.</param>
    /// <param name="context">When given, the reaper is picked as a real platform picks it, among its own and the context's registered ones.</param>
    public FakePlatform(string? boxesDirectory = null, PlatformContext? context = null)
    {
        _boxesDirectory = boxesDirectory;
        var own = new GroupReaper(this);
        Reaper = context is null ? own : ReaperSelection.Select(context.Options.Reaper, context.RegisteredReapers, [own], NullLogger.Instance);
    }

    public string Name => "fake";

    public bool IsCurrentOperatingSystem { get; set; } = true;

    /// <summary><see cref="FakeReaperBehaviour.Survivors"/>: the reaper kills nothing and reports the group's live members.</summary>
    public FakeReaperBehaviour Behaviour { get; set; } = FakeReaperBehaviour.Normal;

    public ITreeReaper Reaper { get; }

    public ProcessIdentity CurrentProcess { get; set; } = IdentityOf(Environment.ProcessId)!;

    public PlatformCapabilityException? Refusal { get; set; }

    /// <summary>When set, a freeze throws it (after freezing, as a freeze that times out does).</summary>
    public Exception? FreezeFailure { get; set; }

    /// <summary>True while the box is frozen, as the runtime last asked.</summary>
    public bool IsFrozen(BoxId id) => _frozen.TryGetValue(id, out var frozen) && frozen;

    /// <summary>How many reaps the reaper has done.</summary>
    public int Reaps => _reaps;

    /// <summary>Boxes this platform was asked to prepare.</summary>
    public List<BoxId> Prepared { get; } = [];

    /// <summary>The file registering a box's process group: "pid start-time" of its leader.</summary>
    public static string GroupFile(string boxDirectory) => Path.Combine(boxDirectory, "fake-group");

    /// <summary>
    /// Starts <paramref name="script"/> as the leader of a new session and registers its group as the containment of the
    /// box in <paramref name="boxDirectory"/>: what a monitor leaves behind when its starter dies.
    /// </summary>
    public static Process StartContained(string boxDirectory, string script)
    {
        Directory.CreateDirectory(boxDirectory);
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in (string[])["/bin/sh", "-c", script])
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi)!;

        // Registered only once setsid has made it the leader of its group, as a verified monitor is.
        var until = DateTime.UtcNow.AddSeconds(30);
        while (Posix.Stat(process.Id) is { } s && s.Pgrp != process.Id && DateTime.UtcNow < until)
        {
            Thread.Sleep(1);
        }

        Register(boxDirectory, IdentityOf(process.Id) is { } leader && Posix.Stat(leader.Pid)?.Pgrp == leader.Pid
            ? leader
            : throw new InvalidOperationException("the contained process did not become a group leader"));
        return process;
    }

    public void EnsureSupported(BoxOptions options)
    {
        if (Refusal is not null)
        {
            throw Refusal;
        }
    }

    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        lock (Prepared)
        {
            Prepared.Add(box.Id);
        }

        return ValueTask.FromResult(new BoxLaunchPlan());
    }

    public ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken)
    {
        if (IdentityOf(monitorPid) is not { } monitor || Posix.Stat(monitorPid)?.Pgrp != monitorPid)
        {
            throw new BoxStartException(box.Id, $"monitor {monitorPid} does not lead its own group");
        }

        Register(box.Directory, monitor);
        return ValueTask.CompletedTask;
    }

    public ProcessIdentity? TryGetIdentity(int pid) => IdentityOf(pid);

    public bool IsAlive(ProcessIdentity identity) =>
        identity.BootId == Posix.BootId && Posix.Stat(identity.Pid) is { } s && s.StartTime == identity.StartTime && s.State != 'Z';

    public async Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken)
    {
        while (IsAlive(identity))
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    public ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken)
    {
        // The command is the monitor's child, in the box's proven group.
        if (ProvenGroup(box) is not { } group || !File.Exists(box.ChildPidFile) ||
            !int.TryParse(File.ReadAllText(box.ChildPidFile).Trim(), CultureInfo.InvariantCulture, out var pid) || Posix.Stat(pid)?.Pgrp != group)
        {
            return ValueTask.FromResult(0);
        }

        var number = signal switch { "TERM" => 15, "INT" => 2, "HUP" => 1, "KILL" => 9, "USR1" => 10, _ => 15 };
        return ValueTask.FromResult(Posix.kill(pid, number) == 0 ? 1 : 0);
    }

    public ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken)
    {
        _frozen[box.Id] = frozen;
        if (ProvenGroup(box) is { } group)
        {
            Posix.kill(-group, frozen ? 19 : 18);
        }

        return frozen && FreezeFailure is { } failure ? ValueTask.FromException(failure) : ValueTask.CompletedTask;
    }

    public ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BoxMetrics(null, null, null, ProvenGroup(box) is { } group ? Posix.GroupMembers(group).Count() : 0));

    public ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BoxLaunchPlan());

    /// <summary>Box directories holding a registered group (a box with no record, too).</summary>
    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxId>>(_boxesDirectory is null || !Directory.Exists(_boxesDirectory)
            ? []
            : [.. Directory.EnumerateDirectories(_boxesDirectory)
                .Where(d => File.Exists(GroupFile(d)))
                .Select(d => BoxId.TryParse(Path.GetFileName(d), out var id) ? id : (BoxId?)null)
                .OfType<BoxId>()]);

    public IReadOnlyList<CapabilityCheck> Diagnose() => [new("fake", true, "process groups")];

    /// <summary>The identity of a process this test started and reaped: a dead process that is never the test's own.</summary>
    public static ProcessIdentity GoneProcess()
    {
        using var sleep = Process.Start("sleep", "1000");
        var identity = IdentityOf(sleep.Id) ?? throw new InvalidOperationException("sleep died at once");
        sleep.Kill();
        sleep.WaitForExit();
        return identity;
    }

    public static ProcessIdentity? IdentityOf(int pid) =>
        Posix.Stat(pid) is { State: not 'Z' } s ? new ProcessIdentity(pid, s.StartTime, Posix.BootId) : null;

    private static void Register(string boxDirectory, ProcessIdentity leader) =>
        File.WriteAllText(GroupFile(boxDirectory), $"{leader.Pid} {leader.StartTime}\n");

    /// <summary>The box's group leader: the recorded monitor, else the registered one.</summary>
    private static ProcessIdentity? Leader(BoxContext box)
    {
        if (box.Info.Monitor is { } monitor)
        {
            return monitor;
        }

        var words = File.Exists(GroupFile(box.Directory)) ? File.ReadAllText(GroupFile(box.Directory)).Split(' ', StringSplitOptions.TrimEntries) : [];
        return words.Length == 2 && int.TryParse(words[0], CultureInfo.InvariantCulture, out var pid) &&
               long.TryParse(words[1], CultureInfo.InvariantCulture, out var start)
            ? new ProcessIdentity(pid, start, Posix.BootId)
            : null;
    }

    /// <summary>
    /// The box's process group id, only when proven: the leader is alive with the recorded start time, or no process has
    /// its pid at all (a pid stays reserved while it names a group, so the members left are the box's).
    /// </summary>
    private static int? ProvenGroup(BoxContext box)
    {
        if (Leader(box) is not { } leader || leader.BootId != Posix.BootId || leader.Pid <= 1)
        {
            return null;
        }

        return Posix.Stat(leader.Pid) switch
        {
            null => leader.Pid,
            { } s when s.StartTime == leader.StartTime && s.Pgrp == leader.Pid => leader.Pid,
            _ => null,
        };
    }

    private static List<BoxProcessInfo> Members(BoxContext box) =>
        ProvenGroup(box) is { } group
            ? [.. Posix.GroupMembers(group).Select(p => new BoxProcessInfo(p, Posix.Comm(p), Posix.Stat(p)?.State ?? '?'))]
            : [];

    private sealed class GroupReaper(FakePlatform platform) : ITreeReaper
    {
        public string Name => "fake-group";

        public ReapGuarantee Guarantee => ReapGuarantee.ProcessGroup;

        public ReaperSupport Support => new(true, "always");

        public ValueTask<BoxContainment> PrepareAsync(BoxContext box, CancellationToken cancellationToken) => ValueTask.FromResult(new BoxContainment());

        public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>(Members(box));

        public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref platform._reaps);
            var members = Members(box);
            if (platform.Behaviour == FakeReaperBehaviour.Survivors && members.Count > 0)
            {
                throw new ReapTimeoutException(box.Id, timeout, members);
            }

            if (members.Count > 0 && ProvenGroup(box) is { } group)
            {
                Posix.kill(-group, Posix.SIGKILL);
                while (Posix.GroupMembers(group).Any())
                {
                    await Task.Delay(5, cancellationToken);
                }
            }

            if (File.Exists(GroupFile(box.Directory)))
            {
                File.Delete(GroupFile(box.Directory));
            }

            return new ReapReport
            {
                Method = Name,
                ProcessesKilled = members.Count,
                Duration = Stopwatch.GetElapsedTime(started),
                ContainmentRemoved = true,
                Guarantee = Guarantee,
            };
        }
    }
}

internal enum FakeReaperBehaviour
{
    Normal,
    Survivors,
}

/// <summary>Makes fake platforms for a builder or a container: the given one, or a new one per runtime.</summary>
internal sealed class FakePlatformFactory(IBoxPlatform? platform = null) : BoxPlatformFactory
{
    public override string Name => "fake";

    public override IBoxPlatform Create(PlatformContext context) => platform ?? new FakePlatform(context: context);
}
