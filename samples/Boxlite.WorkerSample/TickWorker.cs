using System.Text;
using Boxlite.Runtime;
using Microsoft.Extensions.Options;

namespace Boxlite.WorkerSample;

/// <summary>Settings of the ticking job (section <c>Ticks</c>).</summary>
public sealed class TickOptions
{
    /// <summary>Time between jobs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Stop the app after this many jobs (0: run until stopped).</summary>
    public int Count { get; set; }
}

/// <summary>
/// Runs <c>sh -c 'date; uname -a'</c> in a fresh box on every tick, logs its output and removes the box. Next to it
/// lives one long-running attached box, which the Boxlite hosted service stops when the app shuts down.
/// </summary>
internal sealed partial class TickWorker(IBoxRuntime runtime, IOptions<TickOptions> options, IHostApplicationLifetime lifetime, ILogger<TickWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Attached (not detached): it belongs to this app and is reaped, whole tree, at shutdown (then auto-removed).
        var sidecar = await runtime.RunAsync(new BoxOptions { Command = "sleep", Args = ["3600"], Name = $"sidecar-{Environment.ProcessId}", AutoRemove = true }, stoppingToken);
        LogSidecar(sidecar.Id);

        using var timer = new PeriodicTimer(options.Value.Interval);
        var ticks = 0;
        do
        {
            await RunJobAsync(++ticks, stoppingToken);
            if (options.Value.Count > 0 && ticks >= options.Value.Count)
            {
                lifetime.StopApplication();
                return;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RunJobAsync(int tick, CancellationToken cancellationToken)
    {
        var box = await runtime.RunAsync(new BoxOptions { Command = "sh", Args = ["-c", "date; uname -a"] }, cancellationToken);
        try
        {
            var code = await box.WaitAsync(cancellationToken);
            var output = new StringBuilder();
            await foreach (var line in box.ReadLogsAsync(cancellationToken: cancellationToken))
            {
                output.AppendLine(line.Text);
            }

            var text = output.ToString().TrimEnd();
            LogJob(tick, box.Id, code, text);
        }
        finally
        {
            await runtime.RemoveAsync(box.Id.Value, force: true, CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sidecar box {BoxId} started; it is stopped when the app shuts down")]
    private partial void LogSidecar(BoxId boxId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Tick} in box {BoxId} exited with {ExitCode}:\n{Output}")]
    private partial void LogJob(int tick, BoxId boxId, int exitCode, string output);
}
