using System.Diagnostics;
using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Benchmarks;

/// <summary>
/// A cgroup v2 directory this run made, holding a plain-process tree. <see cref="KillAsync"/> is the floor: the
/// kernel's own kill of the whole cgroup, and the wait for <c>populated 0</c>, with nothing around them.
/// </summary>
internal sealed class RawCgroup(string directory)
{
    public string Directory => directory;

    public int Count() => ProcFs.ParsePids(CgroupFileSystem.Instance.TryRead(Path.Combine(directory, "cgroup.procs"))).Count;

    /// <summary>Starts <c>/bin/sh -c <paramref name="script"/></c> as a child of this process, inside this cgroup before it runs anything.</summary>
    public Process Launch(string script, string marker)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var arg in (string[])["-c", "echo $$ > \"$0\" || exit 125; exec /bin/sh -c \"$1\"", Path.Combine(directory, "cgroup.procs"), script])
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["BENCH_MARKER"] = marker;
        return Process.Start(psi) ?? throw new InvalidOperationException("sh did not start");
    }

    /// <summary>Writes <c>cgroup.kill</c> and waits (inotify on <c>cgroup.events</c>) until it reads <c>populated 0</c>.</summary>
    public unsafe Task KillAsync(TimeSpan timeout)
    {
        var events = Path.Combine(directory, "cgroup.events");
        var fd = Libc.inotify_init1(Libc.IN_NONBLOCK | Libc.IN_CLOEXEC);
        try
        {
            if (fd < 0 || Libc.inotify_add_watch(fd, events, Libc.IN_MODIFY) < 0)
            {
                throw new IOException($"inotify on {events}: {Libc.Describe(Libc.LastErrno)}");
            }

            File.WriteAllText(Path.Combine(directory, "cgroup.kill"), "1");
            var clock = Stopwatch.StartNew();
            var buffer = stackalloc byte[4096];
            while (File.ReadAllText(events).Contains("populated 1", StringComparison.Ordinal))
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"{directory} is still populated after {timeout}");
                }

                var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
                if (Libc.poll(&pfd, 1, 100) > 0)
                {
                    while (Libc.read(fd, buffer, 4096) > 0)
                    {
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

        return Task.CompletedTask;
    }

    public Task RemoveAsync() => RemoveDirectoryAsync(directory);

    /// <summary>rmdir, retrying EBUSY briefly (an emptied cgroup is released shortly after its last process is reaped).</summary>
    public static async Task RemoveDirectoryAsync(string dir)
    {
        for (var attempt = 0; ; attempt++)
        {
            var errno = CgroupFileSystem.Instance.RemoveDirectory(dir);
            if (errno is 0 or Libc.ENOENT)
            {
                return;
            }

            if (attempt > 500)
            {
                throw new IOException($"rmdir {dir}: {Libc.Describe(errno)}");
            }

            await Task.Delay(10);
        }
    }
}
