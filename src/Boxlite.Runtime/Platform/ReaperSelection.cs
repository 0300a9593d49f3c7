using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.Platform;

/// <summary>How a platform picks its reaper among its built-in ones and those the host registered.</summary>
internal static class ReaperSelection
{
    /// <summary>
    /// The reaper named by <paramref name="requested"/> (it must be supported here); without a name, the supported
    /// reaper with the strongest guarantee, where a registered reaper goes before a built-in one of the same guarantee and
    /// registered ones keep their registration order. So registering a reaper makes it the default unless the host has a
    /// built-in one that guarantees more: a weaker one is used only when it is named.
    /// </summary>
    /// <exception cref="PlatformCapabilityException">The name is unknown or unusable here, or two reapers share a name.</exception>
    public static ITreeReaper Select(string? requested, IReadOnlyList<ITreeReaper> registered, IReadOnlyList<ITreeReaper> builtIn, ILogger logger)
    {
        var candidates = registered.Concat(builtIn).ToList();
        if (candidates.GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } taken)
        {
            throw new PlatformCapabilityException($"two reapers are named '{taken.Key}'", "give the registered reaper a name of its own");
        }

        if (requested is not null)
        {
            var named = candidates.FirstOrDefault(r => string.Equals(r.Name, requested, StringComparison.OrdinalIgnoreCase))
                ?? throw new PlatformCapabilityException(
                    $"there is no reaper named '{requested}'",
                    $"set BoxliteOptions.Reaper to one of {string.Join(", ", candidates.Select(r => r.Name))}, or leave it null");
            if (!named.Support.IsSupported)
            {
                throw new PlatformCapabilityException($"the reaper {named.Name} cannot be used here: {named.Support.Reason}",
                    "leave BoxliteOptions.Reaper null to pick the best supported reaper");
            }

            Log.ReaperSelected(logger, named.Name, named.Guarantee, Origin(named, registered), "requested by configuration", named.Support.Reason);
            return named;
        }

        foreach (var unusable in candidates.Where(r => !r.Support.IsSupported))
        {
            Log.ReaperUnavailable(logger, unusable.Name, unusable.Support.Reason);
        }

        // OrderByDescending is stable: registered before built-in, each in its own order, within one guarantee. With none
        // usable, the platform's last resort stays active, and the platform refuses boxes saying why.
        var best = candidates.Where(r => r.Support.IsSupported).OrderByDescending(r => r.Guarantee).FirstOrDefault() ?? builtIn[^1];
        if (best.Guarantee == ReapGuarantee.SingleProcess)
        {
            Log.WeakReaper(logger, best.Name, best.Support.Reason);
        }

        Log.ReaperSelected(logger, best.Name, best.Guarantee, Origin(best, registered), "best supported on this host", best.Support.Reason);
        return best;
    }

    /// <summary>How reports name where a reaper comes from.</summary>
    public static string Origin(ITreeReaper reaper, IReadOnlyList<ITreeReaper> registered) => registered.Contains(reaper) ? "custom" : "built-in";
}
