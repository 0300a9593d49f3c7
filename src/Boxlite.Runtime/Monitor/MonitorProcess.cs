using System.Globalization;
using System.Reflection;
using System.Text;
using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Launch;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Monitor;

/// <summary>
/// Launches the box monitor and holds the host end of its stdin. For an attached box that pipe is the monitor's life
/// line: EOF (this process gone) makes it kill the box.
/// </summary>
/// <remarks>
/// The monitor is the platform's compiled one (<see cref="BoxLaunchPlan.MonitorProgram"/>: Linux's
/// <c>boxlite-monitor</c>) or else the portable POSIX <c>sh</c> one (<c>box-monitor.sh</c>). Both speak one protocol,
/// all of it written here:
/// <list type="bullet">
/// <item>argv: the program (<c>boxlite-monitor monitor</c>, or <c>sh -c SCRIPT boxlite-monitor</c>), then
/// <c>[PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]</c>: the isolation prefix, the environment block, the command.</item>
/// <item>environment: the launchers' <c>PATH</c> and the settings below, nothing of the host or the box.</item>
/// <item>stdout: <c>joined PID</c> once the monitor is in its containment; stdin: <c>go</c> starts the command, EOF
/// before it leaves <c>exit</c> reading <c>125</c>/<c>not-started</c>; afterwards, for an attached box, EOF means the
/// host is gone.</item>
/// <item>control files it makes: <c>exit</c> (<c>CODE\nREASON\n</c>, written whole, see <see cref="ExitStatus"/>),
/// <c>child.pid</c>, <c>host-gone</c>, and the log <see cref="BoxLog"/>.</item>
/// </list>
/// The compiled monitor also launches every process executed into a box (<see cref="ExecCommand"/>), so "join the
/// containment, then exec" exists once.
/// </remarks>
internal sealed class MonitorProcess : IDisposable
{
    private static readonly Lazy<string> LazyScript = new(LoadScript);

    private readonly ChildProcess _process;
    private readonly BoxInput? _commandInput;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopFeeding = new();
    private bool _disposed;

    private MonitorProcess(ChildProcess process, int pid, BoxInput? commandInput)
    {
        _process = process;
        Pid = pid;
        _commandInput = commandInput;
    }

    /// <summary>The <c>sh</c> monitor's script text.</summary>
    public static string Script => LazyScript.Value;

    /// <summary>The monitor's pid as it reported it.</summary>
    public int Pid { get; }

    /// <summary>Completes when the monitor process has exited (only for monitors this process started).</summary>
    public Task Exited => _process.Exited;

    /// <summary>The shell the <c>sh</c> monitor runs in.</summary>
    public const string Shell = "/bin/sh";

    /// <summary>The FIFOs the <c>sh</c> monitor's logger reads the command's stdout and stderr from.</summary>
    public static readonly string[] LogPipes = [".out", ".err"];

    /// <summary>
    /// Starts the monitor and waits for it to report that it joined its containment. Nothing of the command runs
    /// until <see cref="Go"/> is called.
    /// </summary>
    public static Task<MonitorProcess> StartAsync(BoxContext box, BoxLaunchPlan plan, long maxLogBytes, TimeSpan handshakeTimeout, CancellationToken cancellationToken) =>
        StartAsync(box, plan, maxLogBytes, handshakeTimeout, commandInput: null, cancellationToken);

    /// <summary>
    /// Starts the monitor as <see cref="StartAsync(BoxContext, BoxLaunchPlan, long, TimeSpan, CancellationToken)"/> does;
    /// with <paramref name="commandInput"/>, the command reads its stdin from a pipe that gets that input once the
    /// command runs (then end of file), instead of <c>/dev/null</c>. Only the compiled monitor takes one.
    /// </summary>
    /// <exception cref="PlatformCapabilityException">An input is given and the platform has no compiled monitor.</exception>
    public static async Task<MonitorProcess> StartAsync(
        BoxContext box, BoxLaunchPlan plan, long maxLogBytes, TimeSpan handshakeTimeout, BoxInput? commandInput, CancellationToken cancellationToken)
    {
        var options = box.Info.Options;
        if (commandInput is not null && plan.MonitorProgram is null)
        {
            throw new PlatformCapabilityException(
                "this platform cannot give a box's command a stdin (it has no compiled box monitor)", "start the box without stdin, or give the input to a process executed into it");
        }

        string[] program = plan.MonitorProgram is { } binary ? [binary, "monitor"] : [.. plan.SessionPrefix, Shell, "-c", Script, "boxlite-monitor"];
        if (plan.MonitorProgram is null)
        {
            MakeLogPipes(box);
        }

        var containment = plan.Containment;
        var settings = new Dictionary<string, string>
        {
            ["BOXLITE_CTL"] = box.Directory,
            ["BOXLITE_WORKDIR"] = box.CommandDirectory,
            ["BOXLITE_JOIN"] = string.Join('\n', containment.MonitorJoinFiles),
            ["BOXLITE_COMMAND_JOIN"] = string.Join('\n', containment.CommandJoinFiles),
            ["BOXLITE_ATTACHED"] = options.Detached ? "0" : "1",
            ["BOXLITE_LOG_MAX"] = maxLogBytes.ToString(CultureInfo.InvariantCulture),
            ["BOXLITE_APPLY_ENV"] = plan.CommandPrefix.Count == 0 ? "1" : "0",
            ["BOXLITE_STDIN"] = commandInput is null ? "0" : "1",
        };
        switch (containment.Kill)
        {
            case CommandKill.CgroupKill kill:
                settings["BOXLITE_KILL_CGROUP"] = kill.CgroupDirectory;
                settings["BOXLITE_KILL_METHOD"] = "cgroup.kill";
                break;
            case CommandKill.FreezeKill kill:
                settings["BOXLITE_KILL_CGROUP"] = kill.CgroupDirectory;
                settings["BOXLITE_KILL_METHOD"] = "cgroup.freeze";
                break;
            case CommandKill.KeeperKill kill:
                settings["BOXLITE_KILL_PID_FILE"] = kill.PidFile;
                break;
        }

        string[] argv = [.. program, .. plan.CommandPrefix, .. BoxEnvironment.Block(options), options.Command, .. options.Args];
        ChildProcess process;
        try
        {
            process = ChildProcess.Start(argv, BoxEnvironment.ForLauncher(settings), box.Directory, newSession: true, redirectInput: true, commandInput: commandInput is not null);
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

            return new MonitorProcess(process, pid, commandInput);
        }
        catch
        {
            Abandon(process);
            throw;
        }
    }

    /// <summary>
    /// The argv and environment that run <paramref name="command"/> inside a running box as <paramref name="plan"/>
    /// says: through the compiled monitor's <c>exec</c> mode (it joins the command's containment, then execs the prefix
    /// or the command), or, without one, the prefix itself or a <c>sh</c> that applies the environment block.
    /// </summary>
    public static (string[] Argv, Dictionary<string, string> Environment) ExecCommand(BoxLaunchPlan plan, BoxOptions options, string command, IReadOnlyList<string> args)
    {
        string[] rest = [.. plan.CommandPrefix, .. BoxEnvironment.Block(options), command, .. args];
        if (plan.MonitorProgram is { } binary)
        {
            return ([binary, "exec", .. rest], BoxEnvironment.ForLauncher(new Dictionary<string, string>
            {
                ["BOXLITE_JOIN"] = string.Join('\n', plan.Containment.CommandJoinFiles),
                ["BOXLITE_APPLY_ENV"] = plan.CommandPrefix.Count == 0 ? "1" : "0",
            }));
        }

        if (plan.Containment.CommandJoinFiles.Count > 0)
        {
            throw new InvalidOperationException("joining a box's containment needs the platform's compiled monitor");
        }

        return (plan.CommandPrefix.Count > 0 ? rest : [Shell, "-c", BoxLaunchPlan.ApplyEnvironment, "boxlite-exec", .. rest], BoxEnvironment.ForLauncher());
    }

    /// <summary>
    /// Lets the command start. A detached monitor's stdin is closed right away: it no longer needs the host. Does nothing
    /// once the handle is disposed.
    /// </summary>
    public void Go(bool detached)
    {
        // A command that ends at once can be found ended by another caller, which disposes this handle, before Go returns.
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

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
            // Fed from this process while the command reads, until every reader is gone or this handle is disposed (the box
            // is final, removed, or its runtime closed), whatever the box left holding the pipe.
            _ = _commandInput?.FeedAsync(_process.CommandInput!, _stopFeeding.Token);
        }
    }

    /// <summary>Closes our end of the host pipe without "go": the monitor exits without running the command.</summary>
    public void Abort() => Abandon(_process);

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;

                // Closing stdin is what tells an attached monitor that its host is gone.
                _stopFeeding.Cancel();
                _process.Dispose();
            }
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

    private static void MakeLogPipes(BoxContext box)
    {
        foreach (var pipe in LogPipes)
        {
            var path = Path.Combine(box.Directory, pipe);
            if (Posix.mkfifo(path, 0x180 /* 0600 */) != 0)
            {
                throw new BoxStartException(box.Id, $"cannot make the log pipe {path}: {Posix.Describe(Posix.LastErrno)}");
            }
        }
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
