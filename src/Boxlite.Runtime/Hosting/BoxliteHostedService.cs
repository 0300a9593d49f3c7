using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Hosting;

/// <summary>Recovers on host start (G4) and stops the attached boxes on graceful shutdown.</summary>
internal sealed class BoxliteHostedService(IServiceProvider services, IOptions<BoxliteOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolving the runtime fails the host start when no platform fits this operating system.
        var runtime = (IBoxRuntime)(services.GetService(typeof(IBoxRuntime)) ?? throw new InvalidOperationException("AddBoxlite() was not called"));
        if (options.Value.RecoverOnStart)
        {
            await runtime.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        services.GetService(typeof(IBoxRuntime)) is BoxRuntime runtime
            ? runtime.StopAttachedAsync(cancellationToken)
            : Task.CompletedTask;
}
