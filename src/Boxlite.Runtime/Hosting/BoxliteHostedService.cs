using Microsoft.Extensions.Hosting;

namespace Boxlite.Runtime.Hosting;

/// <summary>Recovers on host start (G4) and stops the attached boxes on graceful shutdown.</summary>
internal sealed class BoxliteHostedService(BoxRuntime runtime) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (runtime.Options.RecoverOnStart)
        {
            await runtime.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAttachedAsync(cancellationToken);
}
