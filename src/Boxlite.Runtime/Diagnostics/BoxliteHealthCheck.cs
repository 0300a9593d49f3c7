using Boxlite.Runtime.Platform;
using Boxlite.Runtime.State;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Boxlite.Runtime;

/// <summary>
/// Reports the active reaper with its guarantee, and whether the store answers. Register it with
/// <c>services.AddHealthChecks().AddCheck&lt;BoxliteHealthCheck&gt;("boxlite")</c>.
/// </summary>
public sealed class BoxliteHealthCheck : IHealthCheck
{
    private readonly IEnumerable<IBoxPlatform> _platforms;
    private readonly IBoxStore _store;

    /// <summary>Creates the check.</summary>
    public BoxliteHealthCheck(IEnumerable<IBoxPlatform> platforms, IBoxStore store)
    {
        _platforms = platforms;
        _store = store;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var platform = _platforms.FirstOrDefault(p => p.IsCurrentOperatingSystem);
        if (platform is null)
        {
            return HealthCheckResult.Unhealthy(BoxliteServiceCollectionExtensions.NoPlatform().Message);
        }

        var reaper = platform.Reaper;
        var data = new Dictionary<string, object>
        {
            ["platform"] = platform.Name,
            ["reaper"] = reaper.Name,
            ["guarantee"] = reaper.Guarantee.ToString(),
            ["reaperReason"] = reaper.Support.Reason,
            ["store"] = _store.Location,
        };
        try
        {
            var boxes = await _store.ListAsync(cancellationToken).ConfigureAwait(false);
            data["boxes"] = boxes.Count;
        }
        catch (BoxliteException e)
        {
            return HealthCheckResult.Unhealthy($"the box store does not answer: {e.Message}", e, data);
        }

        if (!reaper.Support.IsSupported)
        {
            return HealthCheckResult.Unhealthy($"reaper {reaper.Name} is not supported here: {reaper.Support.Reason}", data: data);
        }

        var description = $"reaper {reaper.Name} ({reaper.Guarantee})";
        return reaper.Guarantee == ReapGuarantee.WholeTree
            ? HealthCheckResult.Healthy(description, data)
            : HealthCheckResult.Degraded(description + ": not every descendant is guaranteed to be reaped", data: data);
    }
}
