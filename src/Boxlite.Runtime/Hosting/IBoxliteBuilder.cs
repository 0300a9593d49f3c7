using Microsoft.Extensions.DependencyInjection;

namespace Boxlite.Runtime;

/// <summary>Returned by <c>AddBoxlite()</c>; platform packages hang their <c>AddLinux()</c> / <c>AddMacOS()</c> on it.</summary>
public interface IBoxliteBuilder
{
    /// <summary>The service collection being configured.</summary>
    IServiceCollection Services { get; }
}
