using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Boxlite.Runtime.Interop;
using Microsoft.Win32.SafeHandles;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// A process this runtime starts (a box monitor, an exec): its own environment only, standard streams on pipes whose
/// host ends stay close-on-exec, and no other descriptor of the host. On Linux it is spawned with
/// <c>posix_spawn</c>, closing every descriptor from 3 up and optionally making it a session leader; elsewhere through
/// <see cref="Process"/> (which cannot start a session: platforms there put a session prefix in the argv).
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process? _process;

    private ChildProcess(int pid, Stream? input, Stream output, Stream error, Task<int> exited, Process? process = null, Stream? commandInput = null)
    {
        Pid = pid;
        Input = input;
        CommandInput = commandInput;
        Output = output;
        Error = error;
        Exited = exited;
        _process = process;
    }

    public int Pid { get; }

    /// <summary>The host end of its stdin (on Linux an <see cref="InputPipe"/>), or null when its stdin is <c>/dev/null</c>.</summary>
    public Stream? Input { get; }

    /// <summary>The host end of the pipe on its descriptor 3 (a monitor's command's stdin), when asked for.</summary>
    public Stream? CommandInput { get; }

    public Stream Output { get; }

    public Stream Error { get; }

    /// <summary>Completes with the exit code (128 + signal when a signal ended it).</summary>
    public Task<int> Exited { get; }

    /// <summary>
    /// Starts <paramref name="argv"/> (its first element an absolute path) with exactly <paramref name="environment"/>;
    /// with <paramref name="commandInput"/> (Linux only), with a pipe to read from on its descriptor 3 too.
    /// </summary>
    public static ChildProcess Start(
        IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workingDirectory, bool newSession, bool redirectInput, bool commandInput = false) =>
        OperatingSystem.IsLinux()
            ? Spawn(argv, environment, workingDirectory, newSession, redirectInput, commandInput)
            : commandInput
                ? throw new PlatformNotSupportedException("a descriptor beyond the standard ones is passed on Linux only")
                : StartProcess(argv, environment, workingDirectory, redirectInput);

    /// <summary>SIGKILLs it, unless it has already exited.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            _ = OperatingSystem.IsLinux() && ChildExits.TrySignal(Pid, Posix.SIGKILL);
            return;
        }

        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public void Dispose()
    {
        Input?.Dispose();
        CommandInput?.Dispose();
        Output.Dispose();
        Error.Dispose();
        _process?.Dispose();
    }

    [SupportedOSPlatform("linux")]
    private static unsafe ChildProcess Spawn(
        IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workingDirectory, bool newSession, bool redirectInput, bool commandInput)
    {
        ChildExits.Listen();
        var fds = stackalloc int[8] { -1, -1, -1, -1, -1, -1, -1, -1 };
        var actions = NativeMemory.AllocZeroed(Posix.SpawnStructSize);
        var attributes = NativeMemory.AllocZeroed(Posix.SpawnStructSize);
        var signals = NativeMemory.AllocZeroed(Posix.SpawnStructSize);
        var strings = new List<nint>();
        try
        {
            // Pipes are close-on-exec from birth; the child's ends become its 0, 1, 2 and 3 (dup2 clears the flag there).
            for (var i = redirectInput ? 0 : 2; i < (commandInput ? 8 : 6); i += 2)
            {
                if (Posix.pipe2(fds + i, Posix.O_CLOEXEC) != 0)
                {
                    throw new IOException($"pipe2: {Posix.Describe(Posix.LastErrno)}");
                }

                // The ends this process writes the child's input through never block it (see InputPipe).
                if (i is 0 or 6 && !Posix.SetNonBlocking(fds[i + 1]))
                {
                    throw new IOException($"fcntl: {Posix.Describe(Posix.LastErrno)}");
                }
            }

            _ = Posix.posix_spawn_file_actions_init(actions);
            Check(redirectInput ? Posix.posix_spawn_file_actions_adddup2(actions, fds[0], 0) : Posix.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", 0, 0), "stdin");
            Check(Posix.posix_spawn_file_actions_adddup2(actions, fds[3], 1), "stdout");
            Check(Posix.posix_spawn_file_actions_adddup2(actions, fds[5], 2), "stderr");
            if (commandInput)
            {
                Check(Posix.posix_spawn_file_actions_adddup2(actions, fds[6], 3), "descriptor 3");
            }

            Check(Posix.posix_spawn_file_actions_addchdir_np(actions, workingDirectory), "chdir");

            // Nothing the host holds (inherited descriptors included) reaches the child.
            Check(Posix.posix_spawn_file_actions_addclosefrom_np(actions, commandInput ? 4 : 3), "closefrom");

            // Default dispositions and an empty mask: .NET ignores SIGPIPE, and ignored signals survive exec.
            _ = Posix.posix_spawnattr_init(attributes);
            _ = Posix.sigfillset(signals);
            Check(Posix.posix_spawnattr_setsigdefault(attributes, signals), "signal defaults");
            _ = Posix.sigemptyset(signals);
            Check(Posix.posix_spawnattr_setsigmask(attributes, signals), "signal mask");
            var flags = (short)(Posix.POSIX_SPAWN_SETSIGDEF | Posix.POSIX_SPAWN_SETSIGMASK | (newSession ? Posix.POSIX_SPAWN_SETSID : 0));
            Check(Posix.posix_spawnattr_setflags(attributes, flags), "flags");

            var argvPtr = NullTerminated(argv, strings);
            var envpPtr = NullTerminated([.. environment.Select(e => e.Key + "=" + e.Value)], strings);
            int pid;
            var error = Posix.posix_spawn(&pid, argvPtr[0], actions, attributes, argvPtr, envpPtr);

            // A program just written (the box monitor, installed by this or another process) is "busy" while any process
            // forked before its writer closed it has not yet exec'd: that copy of the write descriptor goes at its exec.
            for (var attempt = 1; error == Posix.ETXTBSY && attempt <= 40; attempt++)
            {
                Thread.Sleep(attempt);
                error = Posix.posix_spawn(&pid, argvPtr[0], actions, attributes, argvPtr, envpPtr);
            }

            if (error != 0)
            {
                throw new IOException($"cannot start {argv[0]}: {Posix.Describe(error)}");
            }

            var exited = ChildExits.Track(pid);
            foreach (var childEnd in new[] { 0, 3, 5, 6 })
            {
                // The child's ends: the read ends of its stdin and descriptor-3 pipes, the write ends of its stdout and stderr pipes.
                if (fds[childEnd] >= 0)
                {
                    _ = Posix.close(fds[childEnd]);
                    fds[childEnd] = -1;
                }
            }

            var input = redirectInput ? new InputPipe(HostEnd(ref fds[1])) : null;
            var command = commandInput ? new InputPipe(HostEnd(ref fds[7])) : null;
            var stdout = new FileStream(HostEnd(ref fds[2]), FileAccess.Read, bufferSize: 0);
            var stderr = new FileStream(HostEnd(ref fds[4]), FileAccess.Read, bufferSize: 0);
            return new ChildProcess(pid, input, stdout, stderr, exited, commandInput: command);
        }
        finally
        {
            for (var i = 0; i < 8; i++)
            {
                if (fds[i] >= 0)
                {
                    _ = Posix.close(fds[i]);
                }
            }

            _ = Posix.posix_spawn_file_actions_destroy(actions);
            _ = Posix.posix_spawnattr_destroy(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }

    private static ChildProcess StartProcess(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string workingDirectory, bool redirectInput)
    {
        var psi = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in argv.Skip(1))
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        var process = Process.Start(psi) ?? throw new IOException($"cannot start {argv[0]}");
        if (!redirectInput)
        {
            // Never the host's own stdin: an empty one.
            process.StandardInput.Close();
        }

        return new ChildProcess(
            process.Id,
            redirectInput ? process.StandardInput.BaseStream : null,
            process.StandardOutput.BaseStream,
            process.StandardError.BaseStream,
            process.WaitForExitAsync().ContinueWith(_ => process.ExitCode, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default),
            process);
    }

    private static SafeFileHandle HostEnd(ref int fd)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        fd = -1;
        return handle;
    }

    private static unsafe byte** NullTerminated(IReadOnlyList<string> values, List<nint> strings)
    {
        var array = (byte**)Marshal.AllocCoTaskMem((values.Count + 1) * sizeof(nint));
        strings.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
        {
            var s = Marshal.StringToCoTaskMemUTF8(values[i]);
            strings.Add(s);
            array[i] = (byte*)s;
        }

        array[values.Count] = null;
        return array;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new IOException($"posix_spawn {what}: {Posix.Describe(error)}");
        }
    }
}
