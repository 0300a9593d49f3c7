using Boxlite.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Boxlite.CustomReaper;

/// <summary>Registers <see cref="FreezerReaper"/> with a Boxlite host.</summary>
public static class FreezerReaperExtensions
{
    /// <summary>
    /// Registers the freezer reaper, on the host's clock. Like any registered reaper it is used when
    /// <see cref="BoxliteOptions.Reaper"/> names it (<see cref="FreezerReaper.MethodName"/>) or, with no name, when it is
    /// supported and no built-in reaper guarantees more (it guarantees the whole tree).
    /// </summary>
    /// <param name="builder">What <c>AddBoxlite()</c> returned.</param>
    /// <param name="parent">The freezer cgroup that holds the box cgroups; give each home its own.</param>
    public static IBoxliteBuilder AddFreezerReaper(this IBoxliteBuilder builder, string parent = FreezerReaper.DefaultParent) =>
        builder.AddTreeReaper(sp => new FreezerReaper(parent, time: sp.GetService<TimeProvider>()));
}
