using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>
/// The real Linux platform, except that the monitor is told to join nothing: it starts outside its box cgroup, as a
/// broken join would leave it. Everything else, the containment check included, is the real platform's.
/// </summary>
internal sealed class UncontainedMonitorPlatform(IBoxPlatform real) : IBoxPlatform
{
    public string Name => real.Name;

    public bool IsCurrentOperatingSystem => real.IsCurrentOperatingSystem;

    public ITreeReaper Reaper => real.Reaper;

    public ProcessIdentity CurrentProcess => real.CurrentProcess;

    public void EnsureSupported(BoxOptions options) => real.EnsureSupported(options);

    public async ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        var plan = await real.PrepareAsync(box, cancellationToken);
        return plan with { Containment = plan.Containment with { MonitorJoinFiles = [] } };
    }

    public ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken) =>
        real.VerifyContainedAsync(box, monitorPid, cancellationToken);

    public ProcessIdentity? TryGetIdentity(int pid) => real.TryGetIdentity(pid);

    public bool IsAlive(ProcessIdentity identity) => real.IsAlive(identity);

    public Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken) => real.WhenExitedAsync(identity, cancellationToken);

    public ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken) =>
        real.SignalCommandAsync(box, signal, cancellationToken);

    public ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken) => real.SetFrozenAsync(box, frozen, cancellationToken);

    public ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken) => real.GetMetricsAsync(box, cancellationToken);

    public ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken) => real.PrepareExecAsync(box, cancellationToken);

    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken) => real.ListContainedBoxesAsync(cancellationToken);

    public IReadOnlyList<CapabilityCheck> Diagnose() => real.Diagnose();
}
