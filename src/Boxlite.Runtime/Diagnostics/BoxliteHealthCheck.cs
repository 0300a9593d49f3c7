using Boxlite.Runtime.Platform;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Boxlite.Runtime;

/// <summary>
/// Reports the active reaper with its guarantee and whether it is a custom one, and whether the store answers.
/// <c>AddBoxlite()</c> registers it; add it to the host's checks with
/// <c>services.AddHealthChecks().AddCheck&lt;BoxliteHealthCheck&gt;("boxlite")</c>.
/// </summary>
public sealed class BoxliteHealthCheck : IHealthCheck
{
    private readonly BoxRuntime _runtime;
    private readonly IReadOnlyList<ITreeReaper> _registeredReapers;

    internal BoxliteHealthCheck(BoxRuntime runtime, IReadOnlyList<ITreeReaper> registeredReapers)
    {
        _runtime = runtime;
        _registeredReapers = registeredReapers;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var platform = _runtime.Platform;
        var reaper = platform.Reaper;
        var origin = ReaperSelection.Origin(reaper, _registeredReapers);
        var data = new Dictionary<string, object>
        {
            ["platform"] = platform.Name,
            ["reaper"] = reaper.Name,
            ["guarantee"] = reaper.Guarantee.ToString(),
            ["reaperOrigin"] = origin,
            ["reaperReason"] = reaper.Support.Reason,
            ["store"] = _runtime.Store.Location,
        };
        try
        {
            var boxes = await _runtime.Store.ListAsync(cancellationToken).ConfigureAwait(false);
            data["boxes"] = boxes.Count;
        }
        catch (BoxliteException e)
        {
            return HealthCheckResult.Unhealthy($"the box store does not answer: {e.Message}", e, data);
        }

        if (!reaper.Support.IsSupported)
        {
            return HealthCheckResult.Unhealthy($"reaper {reaper.Name} ({origin}) is not supported here: {reaper.Support.Reason}", data: data);
        }

        var description = $"reaper {reaper.Name} ({reaper.Guarantee}, {origin})";
        return reaper.Guarantee == ReapGuarantee.WholeTree
            ? HealthCheckResult.Healthy(description, data)
            : HealthCheckResult.Degraded(description + ": not every descendant is guaranteed to be reaped", data: data);
    }
}
