using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Processes;

/// <summary>
/// Notices process exits without polling: one pidfd per watched process (opened first, then checked against the
/// identity, so it provably names that process and a reused pid cannot stand in for it), all of them watched by ONE
/// thread of this process in <c>poll</c>, which an eventfd wakes when a watch is added. A process watched by any number
/// of callers has one pidfd, closed when the process exits. Without pidfds (kernels before 5.3) a watch polls.
/// </summary>
internal sealed class ExitWatcher
{
    private static readonly TimeSpan PollMax = TimeSpan.FromMilliseconds(100);

    private readonly Lock _gate = new();
    private readonly Dictionary<ProcessIdentity, Watch> _watches = [];
    private int _wakeFd = -1;

    private ExitWatcher()
    {
    }

    /// <summary>The watcher of this process.</summary>
    public static ExitWatcher Shared { get; } = new();

    /// <summary>How many processes are watched now.</summary>
    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>Completes when the process exits; at once when it is not alive now (or its pid is another process's).</summary>
    public Task WhenExited(ProcessIdentity identity)
    {
        lock (_gate)
        {
            if (_watches.TryGetValue(identity, out var watched))
            {
                return watched.Exited.Task;
            }
        }

        var fd = Libc.PidfdOpen(identity.Pid);
        if (fd < 0)
        {
            return Libc.LastErrno == Libc.ESRCH ? Task.CompletedTask : PollAsync(identity);
        }

        if (!ProcessSignaller.IsAlive(identity))
        {
            _ = Libc.close(fd);
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_watches.TryGetValue(identity, out var watched))
            {
                _ = Libc.close(fd);
                return watched.Exited.Task;
            }

            if (_wakeFd < 0 && !StartThread())
            {
                _ = Libc.close(fd);
                return PollAsync(identity);
            }

            var watch = new Watch(fd);
            _watches.Add(identity, watch);
            Wake();
            return watch.Exited.Task;
        }
    }

    private static async Task PollAsync(ProcessIdentity identity)
    {
        var delay = TimeSpan.FromMilliseconds(5);
        while (ProcessSignaller.IsAlive(identity))
        {
            await Task.Delay(delay).ConfigureAwait(false);
            delay = delay * 2 > PollMax ? PollMax : delay * 2;
        }
    }

    private bool StartThread()
    {
        _wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        if (_wakeFd < 0)
        {
            return false;
        }

        new Thread(Run) { IsBackground = true, Name = "boxlite-exit-watcher" }.Start();
        return true;
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        _ = Libc.write(_wakeFd, (byte*)&one, sizeof(ulong));
    }

    private unsafe void Run()
    {
        while (true)
        {
            KeyValuePair<ProcessIdentity, Watch>[] watched;
            lock (_gate)
            {
                watched = [.. _watches];
            }

            var fds = new Libc.PollFd[watched.Length + 1];
            fds[0] = new Libc.PollFd { Fd = _wakeFd, Events = Libc.POLLIN };
            for (var i = 0; i < watched.Length; i++)
            {
                fds[i + 1] = new Libc.PollFd { Fd = watched[i].Value.Fd, Events = Libc.POLLIN };
            }

            int ready;
            fixed (Libc.PollFd* pointer = fds)
            {
                ready = Libc.poll(pointer, (nuint)fds.Length, -1);
            }

            if (ready <= 0)
            {
                continue;
            }

            if (fds[0].Revents != 0)
            {
                ulong count;
                _ = Libc.read(_wakeFd, (byte*)&count, sizeof(ulong));
            }

            for (var i = 0; i < watched.Length; i++)
            {
                // Readable once the process has exited (an error or hang-up means the same: nothing left to watch).
                if (fds[i + 1].Revents == 0)
                {
                    continue;
                }

                var (identity, watch) = watched[i];
                lock (_gate)
                {
                    _watches.Remove(identity);
                }

                _ = Libc.close(watch.Fd);
                watch.Exited.TrySetResult();
            }
        }
    }

    private sealed class Watch(int fd)
    {
        public int Fd { get; } = fd;

        public TaskCompletionSource Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
