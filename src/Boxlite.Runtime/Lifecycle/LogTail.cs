using System.Runtime.CompilerServices;
using System.Text;

namespace Boxlite.Runtime;

/// <summary>
/// Reads the lines of a log file that may still be growing, until the writer has finished. While it waits for more it
/// polls, and wakes at once when the writer finishes, so the last lines come out as soon as the box is done.
/// </summary>
internal sealed class LogTail(string path, BoxLogSource source)
{
    private static readonly TimeSpan Idle = TimeSpan.FromMilliseconds(50);

    public async IAsyncEnumerable<BoxLogLine> ReadAsync(Task writerFinished, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                var finished = writerFinished.IsCompleted;
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

                await Task.WhenAny(Task.Delay(Idle, time, cancellationToken), writerFinished).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
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

    private FileStream? TryOpen()
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
