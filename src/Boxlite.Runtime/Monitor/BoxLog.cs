using System.Globalization;
using System.Runtime.CompilerServices;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Monitor;

/// <summary>
/// The box's log: one file in its control directory, <c>output.log</c>, to which the monitor appends each chunk of the
/// command's stdout and stderr as it receives it, framed with its stream:
/// <code>
/// o&lt;length&gt;\n&lt;length bytes of stdout&gt;
/// e&lt;length&gt;\n&lt;length bytes of stderr&gt;
/// </code>
/// (the length in ASCII decimal). The frames are in the order the monitor received them, so lines of both streams read
/// back in that order: exactly for output written apart, while chunks both pipes held when the monitor woke are recorded
/// stdout first. Each stream's frames, headers included, take at most <see cref="BoxliteOptions.MaxLogBytes"/> bytes of
/// the file (so it stays within twice that): a chunk that does not fit whole is cut to what fits, and the rest of the
/// stream is read and dropped. Both monitors write it (the compiled one on Linux, the <c>sh</c> one's Perl logger
/// elsewhere); <see cref="BoxLogReader"/> is its one reader.
/// </summary>
internal static class BoxLog
{
    /// <summary>The log's file name in the control directory.</summary>
    public const string FileName = "output.log";

    /// <summary>The tag of a stdout frame.</summary>
    public const byte StandardOutputTag = (byte)'o';

    /// <summary>The tag of a stderr frame.</summary>
    public const byte StandardErrorTag = (byte)'e';

    private static readonly TimeSpan FollowIdle = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The log's lines in arrival order, one bounded chunk of the file at a time: memory stays flat however fast the box
    /// writes and however slowly the caller reads. Without <paramref name="untilFinal"/>, what is there now; with it, also
    /// what comes, until the task it returns completes (the box is final) and the log is drained.
    /// </summary>
    public static async IAsyncEnumerable<BoxLogLine> ReadAsync(
        string path, Func<CancellationToken, Task>? untilFinal, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var reader = new BoxLogReader(path);
        using var stopWaiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var finished = untilFinal?.Invoke(stopWaiting.Token) ?? Task.CompletedTask;
        var lines = new List<BoxLogLine>();
        try
        {
            while (true)
            {
                // Sample "finished" before reading, so everything written before it is still read afterwards.
                var final = finished.IsCompleted;
                if (await reader.ReadChunkAsync(lines, cancellationToken).ConfigureAwait(false))
                {
                    foreach (var line in lines)
                    {
                        yield return line;
                    }

                    lines.Clear();
                    continue;
                }

                if (final)
                {
                    break;
                }

                await Task.WhenAny(finished, Task.Delay(FollowIdle, time, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            reader.Flush(lines);
            foreach (var line in lines)
            {
                yield return line;
            }

            await finished.ConfigureAwait(false);
        }
        finally
        {
            // A caller that stops early must not leave the wait behind.
            await stopWaiting.CancelAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Reads a box log (<see cref="BoxLog"/>) that may still be growing, one bounded chunk at a time, into lines per stream in
/// arrival order. A frame cut off at the end of the file is completed by the next read; anything that is not a frame
/// ends the log.
/// </summary>
internal sealed class BoxLogReader : IAsyncDisposable
{
    /// <summary>Bytes read per chunk.</summary>
    internal const int ChunkBytes = 64 * 1024;

    // "o" or "e", up to 19 digits, "\n".
    private const int MaxHeader = 21;

    private readonly byte[] _buffer = new byte[ChunkBytes];
    private readonly byte[] _header = new byte[MaxHeader];
    private readonly LineSplitter _stdout = new(BoxLogSource.StandardOutput);
    private readonly LineSplitter _stderr = new(BoxLogSource.StandardError);
    private readonly string _path;
    private Stream? _stream;
    private int _headerLength;
    private LineSplitter? _frame;
    private long _frameLeft;
    private long _frames;
    private bool _ended;

    /// <summary>Tails the log at <paramref name="path"/> (missing until it appears).</summary>
    public BoxLogReader(string path) => _path = path;

    /// <summary>
    /// Reads the next chunk (nothing when the file is missing, has nothing new, or ended) and adds the lines it
    /// completes to <paramref name="lines"/>. Returns false when there was nothing to read.
    /// </summary>
    public async ValueTask<bool> ReadChunkAsync(List<BoxLogLine> lines, CancellationToken cancellationToken)
    {
        // Only the regular file the monitor made: never a FIFO or a link put in its place.
        _stream ??= ControlFile.TryOpen(_path);
        if (_stream is null || _ended)
        {
            return false;
        }

        var read = await _stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return false;
        }

        Parse(_buffer.AsSpan(0, read), lines);
        return true;
    }

    /// <summary>Adds the last, unterminated line of each stream, the one begun first first.</summary>
    public void Flush(List<BoxLogLine> lines)
    {
        var (first, second) = _stderr.PendingSince < _stdout.PendingSince ? (_stderr, _stdout) : (_stdout, _stderr);
        first.Flush(lines);
        second.Flush(lines);
    }

    public ValueTask DisposeAsync() => _stream?.DisposeAsync() ?? ValueTask.CompletedTask;

    private void Parse(ReadOnlySpan<byte> data, List<BoxLogLine> lines)
    {
        while (data.Length > 0 && !_ended)
        {
            if (_frame is { } frame)
            {
                var take = (int)Math.Min(_frameLeft, data.Length);
                frame.Add(data[..take], lines, _frames);
                data = data[take..];
                _frameLeft -= take;
                if (_frameLeft == 0)
                {
                    _frame = null;
                }

                continue;
            }

            // A header may span two chunks: gather it up to its newline.
            var newline = data.IndexOf((byte)'\n');
            var length = newline < 0 ? data.Length : newline;
            if (_headerLength + length > MaxHeader - 1)
            {
                _ended = true;
                break;
            }

            data[..length].CopyTo(_header.AsSpan(_headerLength));
            _headerLength += length;
            if (newline < 0)
            {
                break;
            }

            data = data[(newline + 1)..];
            StartFrame(_header.AsSpan(0, _headerLength));
            _headerLength = 0;
        }
    }

    private void StartFrame(ReadOnlySpan<byte> header)
    {
        _frames++;
        _frame = header.IsEmpty ? null : header[0] switch
        {
            BoxLog.StandardOutputTag => _stdout,
            BoxLog.StandardErrorTag => _stderr,
            _ => null,
        };
        if (_frame is null || !long.TryParse(header[1..], NumberStyles.None, CultureInfo.InvariantCulture, out _frameLeft))
        {
            _frame = null;
            _ended = true;
        }
        else if (_frameLeft == 0)
        {
            _frame = null;
        }
    }
}
