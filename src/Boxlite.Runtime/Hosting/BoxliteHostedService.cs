using Microsoft.Extensions.Hosting;

namespace Boxlite.Runtime.Hosting;

/// <summary>
/// Recovers on host start (G4). When the host begins to stop, the attached boxes get their stop signal at once (so the
/// work that waits on them ends while the host drains); the host's stop waits for them, and its shutdown timeout cuts
/// their grace periods short: they are reaped at once, never left running, and nothing escapes as a crash.
/// </summary>
internal sealed class BoxliteHostedService(BoxRuntime runtime, IHostApplicationLifetime? lifetime = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (runtime.Options.RecoverOnStart)
        {
            await runtime.RecoverAsync(cancellationToken).ConfigureAwait(false);
        }

        lifetime?.ApplicationStopping.Register(() => _ = runtime.StopAttachedAsync(CancellationToken.None));
    }

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAttachedAsync(cancellationToken);
}
