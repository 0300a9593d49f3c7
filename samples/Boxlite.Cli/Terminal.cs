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

    /// <summary>A command line as one readable string (arguments with spaces quoted).</summary>
    public static string CommandLine(BoxOptions options) =>
        string.Join(' ', options.Args.Prepend(options.Command).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) || a.Contains('\'', StringComparison.Ordinal)
            ? "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"
            : a));

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
