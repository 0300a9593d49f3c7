using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Boxlite.Runtime.Hosting;

/// <summary>
/// Recovers on host start (G4). When the host begins to stop, the attached boxes get their stop signal at once (so the
/// work that waits on them ends while the host drains); the host's stop waits for them, and its shutdown timeout cuts
/// their grace periods short: they are reaped at once, never left running, and nothing escapes as a crash.
/// </summary>
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

        if (runtime is BoxRuntime boxes && services.GetService(typeof(IHostApplicationLifetime)) is IHostApplicationLifetime lifetime)
        {
            lifetime.ApplicationStopping.Register(() => _ = boxes.StopAttachedAsync(CancellationToken.None));
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        services.GetService(typeof(IBoxRuntime)) is BoxRuntime runtime
            ? runtime.StopAttachedAsync(cancellationToken)
            : Task.CompletedTask;
}
