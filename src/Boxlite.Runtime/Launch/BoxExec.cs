using System.Threading.Channels;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// A process executed into a running box: launched as the platform's exec plan says (on Linux the compiled monitor joins
/// the box's containment first, then becomes the command), its output streamed as lines, its stdin from the caller.
/// </summary>
internal static class BoxExec
{
    /// <summary>
    /// Runs <paramref name="command"/> in the box and hands each line of its stdout and stderr to
    /// <paramref name="onOutput"/> (bounded: a slow callback holds the command back through its pipes) until it exits;
    /// returns its exit code. <paramref name="stdin"/> is copied to its stdin, then closed (none: <c>/dev/null</c>).
    /// Cancelling kills the process started; what it started lives in the box's containment and is reaped with it.
    /// </summary>
    /// <exception cref="InvalidBoxStateException">The process could not be started.</exception>
    public static async Task<int> RunAsync(
        BoxContext box, BoxLaunchPlan plan, string command, IReadOnlyList<string> args, Stream? stdin, Action<BoxLogLine> onOutput, CancellationToken cancellationToken)
    {
        var (argv, environment) = MonitorProcess.ExecCommand(plan, box.Info.Options, command, args);
        ChildProcess process;
        try
        {
            process = ChildProcess.Start(argv, environment, box.CommandDirectory, newSession: true, redirectInput: stdin is not null);
        }
        catch (IOException e)
        {
            throw new InvalidBoxStateException(box.Id, box.Info.State, $"exec could not start: {e.Message}");
        }

        using var started = process;
        var feeding = stdin is null ? Task.CompletedTask : FeedAsync(stdin, process.Input!);
        var output = Channel.CreateBounded<BoxLogLine>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var pumps = Task.WhenAll(
            PumpAsync(process.Output, BoxLogSource.StandardOutput, output.Writer),
            PumpAsync(process.Error, BoxLogSource.StandardError, output.Writer));
        _ = pumps.ContinueWith(_ => output.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            await foreach (var line in output.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                onOutput(line);
            }

            await feeding.ConfigureAwait(false);
            return await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }
    }

    /// <summary>Copies the caller's stream to the process's stdin, then closes it: the process reads end of file.</summary>
    internal static async Task FeedAsync(Stream from, Stream to)
    {
        try
        {
            await from.CopyToAsync(to).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The process stopped reading (it exited, or closed its stdin): what it did not take is dropped.
        }
        finally
        {
            await to.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(Stream stream, BoxLogSource source, ChannelWriter<BoxLogLine> writer)
    {
        var splitter = new LineSplitter(source);
        var buffer = new byte[BoxLogReader.ChunkBytes];
        var lines = new List<BoxLogLine>();
        await using (stream.ConfigureAwait(false))
        {
            int read;
            do
            {
                read = await stream.ReadAsync(buffer).ConfigureAwait(false);
                if (read > 0)
                {
                    splitter.Add(buffer.AsSpan(0, read), lines);
                }
                else
                {
                    splitter.Flush(lines);
                }

                foreach (var line in lines)
                {
                    await writer.WriteAsync(line).ConfigureAwait(false);
                }

                lines.Clear();
            }
            while (read > 0);
        }
    }
}
