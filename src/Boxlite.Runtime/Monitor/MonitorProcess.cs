using System.Globalization;
using System.Reflection;
using System.Text;
using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Monitor;

/// <summary>
/// Launches the box monitor (a POSIX sh program, <c>box-monitor.sh</c>) and holds the host end of its stdin.
/// For an attached box that pipe is the monitor's life line: EOF (this process gone) makes it kill the box.
/// </summary>
internal sealed class MonitorProcess : IDisposable
{
    private static readonly Lazy<string> LazyScript = new(LoadScript);

    private readonly ChildProcess _process;
    private int _disposed;

    private MonitorProcess(ChildProcess process, int pid)
    {
        _process = process;
        Pid = pid;
    }

    /// <summary>The monitor's script text.</summary>
    public static string Script => LazyScript.Value;

    /// <summary>The monitor's pid as it reported it.</summary>
    public int Pid { get; }

    /// <summary>Completes when the monitor process has exited (only for monitors this process started).</summary>
    public Task Exited => _process.Exited;

    /// <summary>The shell the monitor runs in.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>The FIFOs the monitor's loggers read the command's stdout and stderr from.</summary>
    public static readonly string[] LogPipes = [".out", ".err"];

    /// <summary>
    /// Starts the monitor and waits for it to report that it joined its containment. Nothing of the command runs
    /// until <see cref="Go"/> is called.
    /// </summary>
    public static async Task<MonitorProcess> StartAsync(BoxContext box, BoxLaunchPlan plan, long maxLogBytes, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        var options = box.Info.Options;
        foreach (var pipe in LogPipes)
        {
            var path = Path.Combine(box.Directory, pipe);
            if (Posix.mkfifo(path, 0x180 /* 0600 */) != 0)
            {
                throw new BoxStartException(box.Id, $"cannot make the log pipe {path}: {Posix.Describe(Posix.LastErrno)}");
            }
        }

        string[] argv = [.. plan.SessionPrefix, Shell, "-c", Script, "boxlite-monitor", .. plan.CommandPrefix, .. BoxEnvironment.Block(options), options.Command, .. options.Args];
        var environment = BoxEnvironment.ForLauncher(new Dictionary<string, string>
        {
            ["BOXLITE_CTL"] = box.Directory,
            ["BOXLITE_WORKDIR"] = box.CommandDirectory,
            ["BOXLITE_JOIN"] = string.Join('\n', plan.JoinFiles),
            ["BOXLITE_COMMAND_JOIN"] = string.Join('\n', plan.CommandJoinFiles),
            ["BOXLITE_KILL_FILE"] = plan.KillFile ?? string.Empty,
            ["BOXLITE_PROCS_FILE"] = plan.ProcsFile ?? string.Empty,
            ["BOXLITE_KILL_PID_FILE"] = plan.KillPidFile ?? string.Empty,
            ["BOXLITE_ATTACHED"] = options.Detached ? "0" : "1",
            ["BOXLITE_LOG_MAX"] = maxLogBytes.ToString(CultureInfo.InvariantCulture),
            ["BOXLITE_APPLY_ENV"] = plan.CommandPrefix.Count == 0 ? "1" : "0",
            ["BOXLITE_NSPID_FD"] = plan.NamespacePidOnDescriptor3 ? "1" : "0",
        });

        ChildProcess process;
        try
        {
            process = ChildProcess.Start(argv, environment, box.Directory, newSession: plan.SessionPrefix.Count == 0, redirectInput: true);
        }
        catch (IOException e)
        {
            throw new BoxStartException(box.Id, $"the box monitor did not start: {e.Message}", e);
        }

        try
        {
            using var output = new StreamReader(process.Output, Encoding.UTF8, leaveOpen: true);
            string? line;
            try
            {
                line = await output.ReadLineAsync(cancellationToken).AsTask().WaitAsync(handshakeTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new BoxStartException(box.Id, $"the box monitor did not report within {handshakeTimeout.TotalSeconds:F0} s");
            }

            if (line is null || !line.StartsWith("joined ", StringComparison.Ordinal) ||
                !int.TryParse(line.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                var error = await ReadErrorAsync(process).ConfigureAwait(false);
                throw new BoxStartException(box.Id, $"the box monitor failed before starting the command: {(error.Length > 0 ? error : line ?? "no output")}");
            }

            return new MonitorProcess(process, pid);
        }
        catch
        {
            Abandon(process);
            throw;
        }
    }

    /// <summary>Lets the command start. A detached monitor's stdin is closed right away: it no longer needs the host.</summary>
    public void Go(bool detached)
    {
        var input = _process.Input!;
        input.Write("go\n"u8);
        input.Flush();
        if (detached)
        {
            input.Close();
        }

        // The monitor now writes to its own log; drop our ends of its stdout and stderr.
        _process.Output.Close();
        _process.Error.Close();
    }

    /// <summary>Closes our end of the host pipe without "go": the monitor exits without running the command.</summary>
    public void Abort() => Abandon(_process);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Closing stdin is what tells an attached monitor that its host is gone.
            _process.Dispose();
        }
    }

    private static void Abandon(ChildProcess process)
    {
        process.Input?.Dispose();

        // Without "go" the monitor exits by itself; wait briefly so no zombie is left behind.
        if (!process.Exited.Wait(TimeSpan.FromSeconds(5)))
        {
            process.Kill();
        }

        process.Dispose();
    }

    private static async Task<string> ReadErrorAsync(ChildProcess process)
    {
        try
        {
            using var reader = new StreamReader(process.Error, Encoding.UTF8, leaveOpen: true);
            var text = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            return text.Trim();
        }
        catch (TimeoutException)
        {
            return string.Empty;
        }
    }

    private static string LoadScript()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("box-monitor.sh")
            ?? throw new InvalidOperationException("box-monitor.sh is missing from the assembly");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
