using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Boxlite.Cli;

/// <summary>
/// SIGINT and SIGTERM of the CLI: the default handling (exit at once) is cancelled so that a command can clean up —
/// a foreground <c>run</c> stops its box, the others cancel what they wait for.
/// </summary>
internal sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _interrupted = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Interrupts()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    /// <summary>Fires on the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _interrupted.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _interrupted.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        try
        {
            _interrupted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Arrived while shutting down.
        }
    }
}

/// <summary>
/// "stopping 3/10…" on stderr while a long operation runs, when stderr is a terminal; nothing in a pipe.
/// </summary>
internal sealed class Progress(string verb, int total) : IDisposable
{
    private readonly bool _shown = total > 1 && !Console.IsErrorRedirected;
    private readonly Lock _gate = new();
    private int _done;

    public void Start() => Show(0);

    public void Advance() => Show(Interlocked.Increment(ref _done));

    public void Dispose()
    {
        if (_shown)
        {
            lock (_gate)
            {
                Console.Error.Write("\r\u001b[K");
            }
        }
    }

    private void Show(int done)
    {
        if (_shown)
        {
            lock (_gate)
            {
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r\u001b[K{verb} {done}/{total}…"));
            }
        }
    }
}

/// <summary>Text formatting shared by commands.</summary>
internal static class Say
{
    /// <summary><c>3 processes reaped by cgroup-kill in 4.2 ms</c>.</summary>
    public static string Reap(ReapReport report) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{report.ProcessesKilled} {(report.ProcessesKilled == 1 ? "process" : "processes")} reaped by {report.Method} in {report.Duration.TotalMilliseconds:0.0} ms");

    /// <summary>A table with left-aligned columns separated by two spaces.</summary>
    public static void Table(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = header.Select((_, i) => all.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in all)
        {
            var cells = row.Select((cell, i) => i == row.Count - 1 ? cell : cell.PadRight(widths[i]));
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }

        // One write for the whole table: the console flushes every line, a system call each.
        output.Write(text.ToString());
    }

    /// <summary>
    /// A command line as one readable string, quoted as a shell would take it back: arguments with spaces or quotes in
    /// <c>'…'</c>, arguments with control characters in <c>$'…'</c> with those escaped, so nothing reaches the terminal raw.
    /// </summary>
    public static string CommandLine(BoxOptions options) =>
        string.Join(' ', options.Args.Prepend(options.Command).Select(a =>
            a.Any(IsUnprintable) ? "$'" + Escape(a.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)) + "'"
            : a.Length == 0 || a.Any(char.IsWhiteSpace) || a.Contains('\'', StringComparison.Ordinal) ? "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"
            : a));

    /// <summary>
    /// <paramref name="text"/> with every control character (ESC, newline, C1 controls…), line separator and bidirectional
    /// override escaped as <c>\e</c>, <c>\n</c>, <c>\x9b</c>, <c>\u202e</c>…, so that text from a box record cannot drive the terminal.
    /// </summary>
    public static string Printable(string text) => text.Any(IsUnprintable) ? Escape(text) : text;

    private static bool IsUnprintable(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!IsUnprintable(c))
            {
                escaped.Append(c);
                continue;
            }

            escaped.Append(c switch
            {
                '\a' => "\\a",
                '\b' => "\\b",
                '\t' => "\\t",
                '\n' => "\\n",
                '\v' => "\\v",
                '\f' => "\\f",
                '\r' => "\\r",
                '\u001b' => "\\e",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }

        return escaped.ToString();
    }

    /// <summary>A local time, or "-" when there is none.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    /// <summary>A byte count with a binary unit.</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b)
        {
            return "-";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = b;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{b} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
