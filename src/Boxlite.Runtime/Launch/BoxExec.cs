using System.Threading.Channels;
using Boxlite.Runtime.Monitor;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// A process executed into a running box: launched as the platform's exec plan says (on Linux the compiled monitor joins
/// the box's containment first, then becomes the command), its output streamed as lines.
/// </summary>
internal static class BoxExec
{
    /// <summary>Starts <paramref name="command"/> in the box; its stdin is a pipe with <paramref name="redirectInput"/>, else <c>/dev/null</c>.</summary>
    /// <exception cref="InvalidBoxStateException">The process could not be started.</exception>
    public static ChildProcess Start(BoxContext box, BoxLaunchPlan plan, string command, IReadOnlyList<string> args, bool redirectInput)
    {
        var (argv, environment) = MonitorProcess.ExecCommand(plan, box.Info.Options, command, args);
        try
        {
            return ChildProcess.Start(argv, environment, box.CommandDirectory, newSession: true, redirectInput);
        }
        catch (IOException e)
        {
            throw new InvalidBoxStateException(box.Id, box.Info.State, $"exec could not start: {e.Message}");
        }
    }

    /// <summary>
    /// The lines of the process's stdout and stderr as they come, until both end or <paramref name="stop"/> fires
    /// (then <see cref="ExecOutput.Pumping"/> completes). Bounded: a slow reader holds the command back through its pipes
    /// instead of buffering without limit, and one that stops reading must stop the pumps too.
    /// </summary>
    public static ExecOutput ReadLines(ChildProcess process, CancellationToken stop)
    {
        var output = Channel.CreateBounded<BoxLogLine>(new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        var pumps = Task.WhenAll(
            PumpAsync(process.Output, BoxLogSource.StandardOutput, output.Writer, stop),
            PumpAsync(process.Error, BoxLogSource.StandardError, output.Writer, stop));
        var pumping = pumps.ContinueWith(_ => output.Writer.TryComplete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        return new ExecOutput(output.Reader, pumping);
    }

    private static async Task PumpAsync(Stream stream, BoxLogSource source, ChannelWriter<BoxLogLine> writer, CancellationToken stop)
    {
        var splitter = new LineSplitter(source);
        var buffer = new byte[BoxLogReader.ChunkBytes];
        var lines = new List<BoxLogLine>();
        await using (stream.ConfigureAwait(false))
        {
            int read;
            do
            {
                read = await stream.ReadAsync(buffer, stop).ConfigureAwait(false);
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
                    await writer.WriteAsync(line, stop).ConfigureAwait(false);
                }

                lines.Clear();
            }
            while (read > 0);
        }
    }
}

/// <summary>The output of an exec as lines, and the pumps that read it.</summary>
/// <param name="Lines">Both streams' lines in arrival order.</param>
/// <param name="Pumping">Completes once nothing reads the process's output any more.</param>
internal sealed record ExecOutput(ChannelReader<BoxLogLine> Lines, Task Pumping);
