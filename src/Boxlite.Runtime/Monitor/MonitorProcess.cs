using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Monitor;

/// <summary>
/// Launches the box monitor (a POSIX sh program, <c>box-monitor.sh</c>) and holds the host end of its stdin.
/// For an attached box that pipe is the monitor's life line: EOF (this process gone) makes it kill the box.
/// </summary>
internal sealed class MonitorProcess : IDisposable
{
    private static readonly Lazy<string> LazyScript = new(LoadScript);

    private readonly Process _process;
    private int _disposed;

    private MonitorProcess(Process process, int pid)
    {
        _process = process;
        Pid = pid;
    }

    /// <summary>The monitor's script text.</summary>
    public static string Script => LazyScript.Value;

    /// <summary>The monitor's pid as it reported it.</summary>
    public int Pid { get; }

    /// <summary>Completes when the monitor process has exited (only for monitors this process started).</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>The shell the monitor runs in.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>Default <c>PATH</c> for boxes when the host has none.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>
    /// Starts the monitor and waits for it to report that it joined its containment. Nothing of the command runs
    /// until <see cref="Go"/> is called.
    /// </summary>
    public static async Task<MonitorProcess> StartAsync(BoxContext box, BoxLaunchPlan plan, long maxLogBytes, TimeSpan handshakeTimeout, CancellationToken cancellationToken)
    {
        var options = box.Info.Options;
        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = box.Directory,
        };

        var argv = new List<string>(plan.SessionPrefix) { Shell, "-c", Script, "boxlite-monitor" };
        argv.AddRange(plan.CommandPrefix);
        argv.Add(options.Command);
        argv.AddRange(options.Args);
        psi.FileName = argv[0];
        for (var i = 1; i < argv.Count; i++)
        {
            psi.ArgumentList.Add(argv[i]);
        }

        ApplyBoxEnvironment(psi, options);
        psi.Environment["BOXLITE_DIR"] = box.Directory;
        psi.Environment["BOXLITE_JOIN"] = string.Join('\n', plan.JoinFiles);
        psi.Environment["BOXLITE_COMMAND_JOIN"] = string.Join('\n', plan.CommandJoinFiles);
        psi.Environment["BOXLITE_KILL_FILE"] = plan.KillFile ?? string.Empty;
        psi.Environment["BOXLITE_PROCS_FILE"] = plan.ProcsFile ?? string.Empty;
        psi.Environment["BOXLITE_KILL_PID_FILE"] = plan.KillPidFile ?? string.Empty;
        psi.Environment["BOXLITE_ATTACHED"] = options.Detached ? "0" : "1";
        psi.Environment["BOXLITE_LOG_MAX"] = maxLogBytes.ToString(CultureInfo.InvariantCulture);
        psi.Environment["BOXLITE_WORKDIR"] = options.WorkingDirectory ?? box.Directory;

        var process = Process.Start(psi) ?? throw new BoxStartException(box.Id, "the box monitor did not start");
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(handshakeTimeout);
            string? line;
            try
            {
                line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
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

    /// <summary>The environment a box's processes see: the host's PATH and HOME, then the box's own variables.</summary>
    public static void ApplyBoxEnvironment(ProcessStartInfo psi, BoxOptions options)
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        var home = Environment.GetEnvironmentVariable("HOME");
        psi.Environment.Clear();
        psi.Environment["PATH"] = string.IsNullOrEmpty(path) ? DefaultPath : path;
        if (!string.IsNullOrEmpty(home))
        {
            psi.Environment["HOME"] = home;
        }

        foreach (var (key, value) in options.Environment)
        {
            psi.Environment[key] = value;
        }
    }

    /// <summary>Lets the command start. A detached monitor's stdin is closed right away: it no longer needs the host.</summary>
    public void Go(bool detached)
    {
        _process.StandardInput.Write("go\n");
        _process.StandardInput.Flush();
        if (detached)
        {
            _process.StandardInput.Close();
        }

        // The monitor now writes to its own log; drop our ends of its stdout and stderr.
        _process.StandardOutput.Close();
        _process.StandardError.Close();
    }

    /// <summary>Closes our end of the host pipe without "go": the monitor exits without running the command.</summary>
    public void Abort() => Abandon(_process);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Closing stdin is what tells an attached monitor that its host is gone.
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
                // Already closed by the monitor's exit.
            }

            _process.Dispose();
        }
    }

    private static void Abandon(Process process)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
        }

        // Without "go" the monitor exits by itself; wait briefly so no zombie is left behind.
        if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        }

        process.Dispose();
    }

    private static async Task<string> ReadErrorAsync(Process process)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var text = await process.StandardError.ReadToEndAsync(cts.Token).ConfigureAwait(false);
            return text.Trim();
        }
        catch (OperationCanceledException)
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
