using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>
/// Waits for a key of a <c>cgroup.events</c> file to reach a value. The kernel signals every change of that file
/// with IN_MODIFY, so inotify wakes the wait at once; the file is re-read after every wake-up and every timeout, never
/// trusted from a previous read.
/// </summary>
internal static class CgroupEventWaiter
{
    // The first stretch blocks in poll (a reap of a big tree completes within it); later waits yield the thread.
    private static readonly TimeSpan BlockingStretch = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until <paramref name="key"/> reads <paramref name="value"/> in <paramref name="eventsFile"/>.</summary>
    /// <returns>True when reached (or the file is gone: a removed cgroup is neither populated nor frozen); false at the deadline.</returns>
    public static async ValueTask<bool> WaitAsync(
        ICgroupFileSystem fs, string eventsFile, string key, string value, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var fd = fs is CgroupFileSystem ? Watch(eventsFile) : -1;
        try
        {
            while (true)
            {
                var text = fs.TryRead(eventsFile);
                if (text is null || ReadKey(text, key) == value)
                {
                    return true;
                }

                var elapsed = time.GetElapsedTime(start);
                if (elapsed >= timeout)
                {
                    return false;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var slice = Min(Slice, timeout - elapsed);
                if (fd >= 0 && elapsed < BlockingStretch)
                {
                    PollAndDrain(fd, (int)Math.Ceiling(slice.TotalMilliseconds));
                }
                else
                {
                    await Task.Delay(slice, time, cancellationToken).ConfigureAwait(false);
                    if (fd >= 0)
                    {
                        PollAndDrain(fd, 0);
                    }
                }
            }
        }
        finally
        {
            if (fd >= 0)
            {
                _ = Libc.close(fd);
            }
        }
    }

    /// <summary>The value of <paramref name="key"/> in a flat keyed file (<c>populated 1</c>), or null.</summary>
    public static string? ReadKey(string text, string key)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.Length > key.Length && line[key.Length] == ' ')
            {
                return line[(key.Length + 1)..].Trim().ToString();
            }
        }

        return null;
    }

    private static int Watch(string file)
    {
        var fd = Libc.inotify_init1(Libc.IN_NONBLOCK | Libc.IN_CLOEXEC);
        if (fd < 0)
        {
            return -1;
        }

        if (Libc.inotify_add_watch(fd, file, Libc.IN_MODIFY) < 0)
        {
            _ = Libc.close(fd);
            return -1;
        }

        return fd;
    }

    private static unsafe void PollAndDrain(int fd, int timeoutMs)
    {
        var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
        if (Libc.poll(&pfd, 1, timeoutMs) > 0)
        {
            var buffer = stackalloc byte[4096];
            while (Libc.read(fd, buffer, 4096) > 0)
            {
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
