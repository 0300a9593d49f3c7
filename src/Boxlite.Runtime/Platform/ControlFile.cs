using System.Text;
using Boxlite.Runtime.Interop;
using Microsoft.Win32.SafeHandles;

namespace Boxlite.Runtime.Platform;

/// <summary>
/// Reads the small files the box monitor writes (exit status, pids, keeper registrations) without trusting what is
/// at their path: never through a symbolic link, never blocking on a FIFO or device, never more than
/// <see cref="MaxLength"/> bytes, and only from a regular file. Anything else reads as unknown (null).
/// </summary>
internal static class ControlFile
{
    /// <summary>The largest control file read; a longer one is unknown.</summary>
    public const int MaxLength = 4096;

    /// <summary>The text of the regular file at <paramref name="path"/>, or null when it is anything else or unreadable.</summary>
    public static unsafe string? TryRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fd = OpenRegular(path);
        if (fd < 0)
        {
            return null;
        }

        try
        {
            // One byte more than allowed tells "too big" from "exactly full".
            var buffer = stackalloc byte[MaxLength + 1];
            var total = 0;
            while (total <= MaxLength)
            {
                var read = Posix.pread(fd, buffer + total, MaxLength + 1 - total, total);
                if (read < 0 && Posix.LastErrno == Posix.EINTR)
                {
                    continue;
                }

                if (read <= 0)
                {
                    break;
                }

                total += (int)read;
            }

            return total <= MaxLength ? Encoding.UTF8.GetString(buffer, total) : null;
        }
        finally
        {
            _ = Posix.close(fd);
        }
    }

    /// <summary>
    /// Opens the regular file at <paramref name="path"/> for reading under the same rules (no link, no FIFO, no
    /// device), with no size bound; null when it is anything else or missing.
    /// </summary>
    internal static FileStream? TryOpen(string path)
    {
        var fd = OpenRegular(path);
        return fd < 0 ? null : new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 1);
    }

    private static int OpenRegular(string path)
    {
        // O_NONBLOCK: opening a FIFO or a device never waits; O_NOFOLLOW: a link at the path is refused.
        var fd = Posix.open(path, Posix.O_NONBLOCK | Posix.O_NOFOLLOW | Posix.O_CLOEXEC | Posix.O_NOCTTY);
        if (fd < 0)
        {
            return -1;
        }

        if (Posix.FileType(fd) != Posix.S_IFREG)
        {
            _ = Posix.close(fd);
            return -1;
        }

        return fd;
    }
}
