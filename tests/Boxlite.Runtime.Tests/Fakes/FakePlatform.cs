using System.Diagnostics;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Tests.Fakes;

/// <summary>
/// Real processes, no root: each monitor leads a session of its own (setsid) and the "containment" is its process
/// group. Enough to exercise the whole lifecycle, the monitor and the store without cgroups.
/// </summary>
internal sealed class FakePlatform : IBoxPlatform
{
    public FakePlatform() => Reaper = new GroupReaper(this);

    public string Name => "fake";

    public bool IsCurrentOperatingSystem { get; set; } = true;

    public FakeReaperBehaviour Behaviour { get; set; } = FakeReaperBehaviour.Normal;

    public ITreeReaper Reaper { get; }

    public List<string> Calls { get; } = [];

    public ProcessIdentity CurrentProcess { get; set; } = IdentityOf(Environment.ProcessId)!;

    public PlatformCapabilityException? Refusal { get; set; }

    public void EnsureSupported(BoxOptions options)
    {
        if (Refusal is not null)
        {
            throw Refusal;
        }
    }

    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        lock (Calls)
        {
            Calls.Add($"prepare {box.Id}");
        }

        return ValueTask.FromResult(new BoxLaunchPlan());
    }

    public ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken) =>
        Posix.Stat(monitorPid) is { } s && s.Pgrp == monitorPid
            ? ValueTask.CompletedTask
            : throw new BoxStartException(box.Id, $"monitor {monitorPid} does not lead its own group");

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
        if (!File.Exists(box.ChildPidFile) || !int.TryParse(File.ReadAllText(box.ChildPidFile).Trim(), out var pid))
        {
            return ValueTask.FromResult(0);
        }

        var number = signal switch { "TERM" => 15, "INT" => 2, "HUP" => 1, "KILL" => 9, "USR1" => 10, _ => 15 };
        return ValueTask.FromResult(Posix.kill(pid, number) == 0 ? 1 : 0);
    }

    public ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken)
    {
        if (box.Info.Monitor is { } m)
        {
            Posix.kill(-m.Pid, frozen ? 19 : 18);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BoxMetrics(null, null, null, box.Info.Monitor is { } m ? Posix.GroupMembers(m.Pid).Count() : 0));

    public ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BoxLaunchPlan());

    public List<BoxId> Contained { get; } = [];

    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxId>>([.. Contained]);

    public IReadOnlyList<CapabilityCheck> Diagnose() => [new("fake", true, "process groups")];

    public static ProcessIdentity? IdentityOf(int pid) =>
        Posix.Stat(pid) is { } s ? new ProcessIdentity(pid, s.StartTime, Posix.BootId) : null;

    private sealed class GroupReaper(FakePlatform platform) : ITreeReaper
    {
        public string Name => "fake-group";

        public ReapGuarantee Guarantee => ReapGuarantee.ProcessGroup;

        public ReaperSupport Support => new(true, "always");

        public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken) => ValueTask.FromResult(new BoxLaunchPlan());

        public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>(Members(box));

        public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
        {
            lock (platform.Calls)
            {
                platform.Calls.Add($"reap {box.Id}");
            }

            var started = Stopwatch.GetTimestamp();
            if (platform.Behaviour == FakeReaperBehaviour.Survivors)
            {
                throw new ReapTimeoutException(box.Id, timeout, [new BoxProcessInfo(4242, "stuck", 'D')]);
            }

            var members = Members(box);
            if (box.Info.Monitor is { } m && members.Count > 0)
            {
                Posix.kill(-m.Pid, Posix.SIGKILL);
                while (Members(box).Count > 0)
                {
                    await Task.Delay(5, cancellationToken);
                }
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

        private static List<BoxProcessInfo> Members(BoxContext box) =>
            box.Info.Monitor is { } m && m.BootId == Posix.BootId
                ? Posix.GroupMembers(m.Pid).Select(p => new BoxProcessInfo(p, Posix.Comm(p), Posix.Stat(p)?.State ?? '?')).ToList()
                : [];
    }
}

internal enum FakeReaperBehaviour
{
    Normal,
    Survivors,
}
