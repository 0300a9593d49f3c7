using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Benchmarks.Phases;

/// <summary>A store that reports each call, by box, to a <see cref="PhaseRecorder"/>.</summary>
internal sealed class TimedStore(IBoxStore inner, PhaseRecorder recorder) : IBoxStore
{
    public string Location => inner.Location;

    public async Task<BoxInfo> InsertAsync(BoxInfo box, CancellationToken cancellationToken = default)
    {
        using var _ = recorder.Measure(box.Id, PhaseRecorder.Insert);
        return await inner.InsertAsync(box, cancellationToken);
    }

    public async Task<BoxInfo?> GetAsync(BoxId id, CancellationToken cancellationToken = default)
    {
        using var _ = recorder.Measure(id, PhaseRecorder.Get);
        return await inner.GetAsync(id, cancellationToken);
    }

    public Task<BoxInfo?> GetByNameAsync(string name, CancellationToken cancellationToken = default) =>
        inner.GetByNameAsync(name, cancellationToken);

    public Task<IReadOnlyList<BoxInfo>> FindByIdPrefixAsync(string prefix, CancellationToken cancellationToken = default) =>
        inner.FindByIdPrefixAsync(prefix, cancellationToken);

    public Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    public async Task<BoxInfo?> TryUpdateAsync(BoxInfo updated, CancellationToken cancellationToken = default)
    {
        using var _ = recorder.Measure(updated.Id, PhaseRecorder.Update);
        return await inner.TryUpdateAsync(updated, cancellationToken);
    }

    public async Task<bool> TryDeleteAsync(BoxId id, long expectedVersion, CancellationToken cancellationToken = default)
    {
        using var _ = recorder.Measure(id, PhaseRecorder.Delete);
        return await inner.TryDeleteAsync(id, expectedVersion, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>A platform that reports containment, verification and reaps, by box, to a <see cref="PhaseRecorder"/>.</summary>
internal sealed class TimedPlatform(IBoxPlatform inner, PhaseRecorder recorder) : IBoxPlatform
{
    private readonly TimedReaper _reaper = new(inner.Reaper, recorder);

    public string Name => inner.Name;

    public bool IsCurrentOperatingSystem => inner.IsCurrentOperatingSystem;

    public ITreeReaper Reaper => _reaper;

    public ProcessIdentity CurrentProcess => inner.CurrentProcess;

    public void EnsureSupported(BoxOptions options) => inner.EnsureSupported(options);

    public async ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        using var _ = recorder.Measure(box.Id, PhaseRecorder.Prepare);
        return await inner.PrepareAsync(box, cancellationToken);
    }

    public async ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken)
    {
        using var _ = recorder.Measure(box.Id, PhaseRecorder.Verify);
        await inner.VerifyContainedAsync(box, monitorPid, cancellationToken);
    }

    public ProcessIdentity? TryGetIdentity(int pid) => inner.TryGetIdentity(pid);

    public bool IsAlive(ProcessIdentity identity) => inner.IsAlive(identity);

    public Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken) =>
        inner.WhenExitedAsync(identity, cancellationToken);

    public ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken) =>
        inner.SignalCommandAsync(box, signal, cancellationToken);

    public ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken) =>
        inner.SetFrozenAsync(box, frozen, cancellationToken);

    public ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken) =>
        inner.GetMetricsAsync(box, cancellationToken);

    public ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken) =>
        inner.PrepareExecAsync(box, cancellationToken);

    public ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken) =>
        inner.ListContainedBoxesAsync(cancellationToken);

    public IReadOnlyList<CapabilityCheck> Diagnose() => inner.Diagnose();

    private sealed class TimedReaper(ITreeReaper inner, PhaseRecorder recorder) : ITreeReaper
    {
        public string Name => inner.Name;

        public ReapGuarantee Guarantee => inner.Guarantee;

        public ReaperSupport Support => inner.Support;

        public ValueTask<BoxContainment> PrepareAsync(BoxContext box, CancellationToken cancellationToken) =>
            inner.PrepareAsync(box, cancellationToken);

        public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
            inner.ListProcessesAsync(box, cancellationToken);

        public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var _ = recorder.Measure(box.Id, PhaseRecorder.Reap);
            return await inner.ReapAsync(box, timeout, cancellationToken);
        }
    }
}
