using System.Runtime.CompilerServices;
using System.Text;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime;

/// <summary>Reads the lines of a log file that may still be growing, until told the writer has finished.</summary>
internal sealed class LogTail(string path, BoxLogSource source)
{
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(50);

    public async IAsyncEnumerable<BoxLogLine> ReadAsync(Func<bool> writerFinished, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        FileStream? stream = null;
        var pending = new StringBuilder();
        var buffer = new byte[64 * 1024];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        try
        {
            while (true)
            {
                // Sample "finished" before reading, so everything written before it is still read afterwards.
                var finished = writerFinished();
                stream ??= TryOpen();
                var read = stream is null ? 0 : await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read > 0)
                {
                    var count = decoder.GetChars(buffer, 0, read, chars, 0);
                    var start = 0;
                    for (var i = 0; i < count; i++)
                    {
                        if (chars[i] == '\n')
                        {
                            pending.Append(chars, start, i - start);
                            yield return new BoxLogLine(source, pending.ToString());
                            pending.Clear();
                            start = i + 1;
                        }
                    }

                    pending.Append(chars, start, count - start);
                    continue;
                }

                if (finished)
                {
                    if (pending.Length > 0)
                    {
                        yield return new BoxLogLine(source, pending.ToString());
                    }

                    yield break;
                }

                await Task.Delay(Idle, time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // Only the regular file the monitor made: never a FIFO or a link put in its place.
    private FileStream? TryOpen() => ControlFile.TryOpen(path);
}
