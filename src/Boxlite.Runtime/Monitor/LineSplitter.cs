using System.Text;

namespace Boxlite.Runtime.Monitor;

/// <summary>
/// Turns one output stream's bytes, chunk by chunk, into its lines: UTF-8 decoded across chunk boundaries, split at
/// <c>\n</c>, a line longer than <see cref="MaxLineChars"/> returned in pieces of that length. Memory stays within one
/// chunk and one line however much the stream carries.
/// </summary>
internal sealed class LineSplitter(BoxLogSource source)
{
    /// <summary>A line longer than this (in chars) is returned in pieces of this length.</summary>
    internal const int MaxLineChars = 64 * 1024;

    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _pending = new();
    private char[] _chars = [];

    /// <summary>The order (as given to <see cref="Add"/>) of the chunk the unterminated line began in; <see cref="long.MaxValue"/> when there is none.</summary>
    public long PendingSince { get; private set; } = long.MaxValue;

    /// <summary>Adds the lines <paramref name="bytes"/> completes to <paramref name="lines"/>; <paramref name="order"/> numbers the chunk.</summary>
    public void Add(ReadOnlySpan<byte> bytes, List<BoxLogLine> lines, long order = 0)
    {
        var count = _decoder.GetChars(bytes, Chars(bytes.Length), flush: false);
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

        if (count > start && _pending.Length == 0)
        {
            PendingSince = order;
        }

        _pending.Append(_chars, start, count - start);
    }

    /// <summary>Adds the last line when the stream did not end with a newline.</summary>
    public void Flush(List<BoxLogLine> lines)
    {
        var count = _decoder.GetChars([], Chars(0), flush: true);
        _pending.Append(_chars, 0, count);
        if (_pending.Length > 0)
        {
            Complete(lines, 0, 0);
        }
    }

    private char[] Chars(int bytes)
    {
        // Room for the bytes and for what the decoder still holds of a character begun in an earlier chunk.
        var most = Encoding.UTF8.GetMaxCharCount(bytes + 4);
        if (_chars.Length < most)
        {
            _chars = new char[most];
        }

        return _chars;
    }

    private void Complete(List<BoxLogLine> lines, int start, int length)
    {
        _pending.Append(_chars, start, length);
        lines.Add(new BoxLogLine(source, _pending.ToString()));
        _pending.Clear();
        PendingSince = long.MaxValue;
    }
}
