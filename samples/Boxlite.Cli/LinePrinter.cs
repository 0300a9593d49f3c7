using System.Text;
using Boxlite.Runtime;

namespace Boxlite.Cli;

/// <summary>
/// Prints a box's output lines to this process's stdout and stderr. Buffered: a write per line is a system call per
/// line, which a box that floods its output turns into the bottleneck. What waits is flushed when the stream changes (so
/// a terminal shows both in their order), when a buffer fills, within 50 ms otherwise, and on dispose.
/// </summary>
internal sealed class LinePrinter : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    private readonly StreamWriter _out = Writer(Console.OpenStandardOutput());
    private readonly StreamWriter _error = Writer(Console.OpenStandardError());
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private StreamWriter? _waiting;

    public LinePrinter() => _timer = new Timer(_ => Flush(), null, Interval, Interval);

    public void Write(BoxLogLine line)
    {
        lock (_gate)
        {
            var writer = line.Source == BoxLogSource.StandardError ? _error : _out;
            if (_waiting is not null && _waiting != writer)
            {
                _waiting.Flush();
            }

            writer.WriteLine(line.Text);
            _waiting = writer;
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            _waiting?.Flush();
            _waiting = null;
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush();
        _out.Dispose();
        _error.Dispose();
    }

    private static StreamWriter Writer(Stream stream) => new(stream, new UTF8Encoding(false), 64 * 1024) { AutoFlush = false, NewLine = "\n" };
}
