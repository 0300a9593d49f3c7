using System.Text;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime;

/// <summary>
/// Reads the lines of a log file that may still be growing (or of a pipe), one bounded chunk at a time: memory stays
/// within one chunk and one line however much the box writes, and a slow reader simply reads later (the file, or the
/// writer held back by its pipe, is the buffer).
/// </summary>
internal sealed class LogTail : IAsyncDisposable
{
    /// <summary>Bytes read per chunk.</summary>
    internal const int ChunkBytes = 64 * 1024;

    /// <summary>A line longer than this (in chars) is returned in pieces of this length.</summary>
    internal const int MaxLineChars = 64 * 1024;

    private readonly byte[] _buffer = new byte[ChunkBytes];
    private readonly char[] _chars = new char[Encoding.UTF8.GetMaxCharCount(ChunkBytes)];
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _pending = new();
    private readonly BoxLogSource _source;
    private readonly string? _path;
    private Stream? _stream;

    /// <summary>Tails the file at <paramref name="path"/> (missing until it appears).</summary>
    public LogTail(string path, BoxLogSource source) => (_path, _source) = (path, source);

    /// <summary>Reads <paramref name="stream"/> (owned: disposed with this) to its end.</summary>
    public LogTail(Stream stream, BoxLogSource source) => (_stream, _source) = (stream, source);

    /// <summary>
    /// Reads the next chunk (nothing when the file is missing or has nothing new, or the pipe is at its end) and adds
    /// the lines it completes to <paramref name="lines"/>. Returns false when there was nothing to read.
    /// </summary>
    public async ValueTask<bool> ReadChunkAsync(List<BoxLogLine> lines, CancellationToken cancellationToken)
    {
        _stream ??= _path is null ? null : TryOpen(_path);
        var read = _stream is null ? 0 : await _stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return false;
        }

        var count = _decoder.GetChars(_buffer, 0, read, _chars, 0);
        var start = 0;
        for (var i = 0; i < count; i++)
        {
            if (_chars[i] == '\n')
            {
                Complete(lines, start, i - start);
                start = i + 1;
            }
            else if (_pending.Length + (i - start) >= MaxLineChars)
            {
                Complete(lines, start, i - start);
                start = i;
            }
        }

        _pending.Append(_chars, start, count - start);
        return true;
    }

    /// <summary>Adds the last line when the file did not end with a newline.</summary>
    public void Flush(List<BoxLogLine> lines)
    {
        if (_pending.Length > 0)
        {
            Complete(lines, 0, 0);
        }
    }

    public ValueTask DisposeAsync() => _stream?.DisposeAsync() ?? ValueTask.CompletedTask;

    private void Complete(List<BoxLogLine> lines, int start, int length)
    {
        _pending.Append(_chars, start, length);
        lines.Add(new BoxLogLine(_source, _pending.ToString()));
        _pending.Clear();
    }

    // Only the regular file the monitor made: never a FIFO or a link put in its place.
    private static FileStream? TryOpen(string path) => ControlFile.TryOpen(path);
}
