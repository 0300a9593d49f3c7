using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Boxlite.Runtime.Interop;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// Collects the exits of the children this runtime spawned itself (.NET reaps only the ones it started through
/// <see cref="System.Diagnostics.Process"/>): on every SIGCHLD each tracked child is waited for without blocking. A
/// child stays tracked, and so unreaped, until it has exited: its pid cannot be handed to another process before, which
/// makes <see cref="TrySignal"/> safe.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static unsafe class ChildExits
{
    private static readonly Dictionary<int, TaskCompletionSource<int>> Children = [];
    private static readonly Lazy<PosixSignalRegistration> Registration =
        new(() => PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => CollectAll()));

    /// <summary>Starts listening for SIGCHLD (before the first spawn, so no exit goes unnoticed).</summary>
    public static void Listen() => _ = Registration.Value;

    /// <summary>Tracks a freshly spawned child; completes with its exit code (128 + signal when a signal ended it, -1 when unknown).</summary>
    public static Task<int> Track(int pid)
    {
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Children)
        {
            Children[pid] = exit;
            TryCollect(pid, exit);
        }

        return exit.Task;
    }

    /// <summary>Signals a tracked child that has not been reaped yet; false when it is already gone.</summary>
    public static bool TrySignal(int pid, int signal)
    {
        lock (Children)
        {
            return Children.ContainsKey(pid) && Posix.kill(pid, signal) == 0;
        }
    }

    private static void CollectAll()
    {
        lock (Children)
        {
            foreach (var (pid, exit) in Children.ToList())
            {
                TryCollect(pid, exit);
            }
        }
    }

    private static void TryCollect(int pid, TaskCompletionSource<int> exit)
    {
        int status;
        int result;
        do
        {
            result = Posix.waitpid(pid, &status, Posix.WNOHANG);
        }
        while (result < 0 && Posix.LastErrno == Posix.EINTR);

        int code;
        if (result == pid)
        {
            var signal = status & 0x7f;
            code = signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        }
        else if (result < 0 && Posix.LastErrno == Posix.ECHILD)
        {
            // Reaped by someone else (a runtime that reaps every child, as .NET does as pid 1): gone, code unknown.
            code = -1;
        }
        else
        {
            return;
        }

        Children.Remove(pid);
        exit.TrySetResult(code);
    }
}
