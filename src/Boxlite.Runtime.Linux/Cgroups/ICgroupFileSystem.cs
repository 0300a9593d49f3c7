using System.Text;
using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Cgroups;

/// <summary>A failed cgroup filesystem call, with its errno.</summary>
internal sealed class CgroupFileSystemException : IOException
{
    public CgroupFileSystemException(string operation, string path, int errno)
        : base($"{operation} {path}: {Libc.Describe(errno)}") => Errno = errno;

    /// <summary>The errno of the failed call.</summary>
    public int Errno { get; }
}

/// <summary>The cgroup filesystem operations this platform uses: a seam so discovery and planning are tested without root.</summary>
internal interface ICgroupFileSystem
{
    /// <summary>The text of <c>/proc/self/mountinfo</c>.</summary>
    string ReadMountInfo();

    /// <summary>The text of <c>/proc/self/cgroup</c>.</summary>
    string ReadSelfCgroup();

    /// <summary>True when the file or directory exists.</summary>
    bool Exists(string path);

    /// <summary>The file's text, or null when it does not exist.</summary>
    string? TryRead(string path);

    /// <summary>Writes <paramref name="text"/> in one write call; throws <see cref="CgroupFileSystemException"/> on failure.</summary>
    void Write(string path, string text);

    /// <summary>Child directory names; empty when the directory does not exist.</summary>
    IReadOnlyList<string> ListDirectories(string path);

    /// <summary>Creates a directory; false when it already existed; throws on any other failure.</summary>
    bool CreateDirectory(string path);

    /// <summary>Removes a directory; returns 0, or the errno of the failure.</summary>
    int RemoveDirectory(string path);

    /// <summary>True when this process may write to the path.</summary>
    bool IsWritable(string path);
}

/// <summary>The real filesystem, through libc so that every failure keeps its errno (cgroupfs speaks in errnos).</summary>
internal sealed unsafe class CgroupFileSystem : ICgroupFileSystem
{
    public static CgroupFileSystem Instance { get; } = new();

    public string ReadMountInfo() => File.ReadAllText("/proc/self/mountinfo");

    public string ReadSelfCgroup() => File.ReadAllText("/proc/self/cgroup");

    public bool Exists(string path) => Libc.access(path, 0) == 0;

    public string? TryRead(string path)
    {
        var fd = Libc.open(path, Libc.O_RDONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            return null;
        }

        try
        {
            // cgroupfs files report no size; read until EOF.
            var buffer = new byte[8192];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                nint n;
                fixed (byte* p = &buffer[length])
                {
                    n = Libc.read(fd, p, buffer.Length - length);
                }

                if (n < 0)
                {
                    if (Libc.LastErrno == Libc.EINTR)
                    {
                        continue;
                    }

                    return null;
                }

                if (n == 0)
                {
                    return Encoding.UTF8.GetString(buffer, 0, length);
                }

                length += (int)n;
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    public void Write(string path, string text)
    {
        var fd = Libc.open(path, Libc.O_WRONLY | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new CgroupFileSystemException("open", path, Libc.LastErrno);
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            fixed (byte* p = bytes)
            {
                if (Libc.write(fd, p, bytes.Length) < 0)
                {
                    throw new CgroupFileSystemException($"write '{text.TrimEnd()}' to", path, Libc.LastErrno);
                }
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    public IReadOnlyList<string> ListDirectories(string path)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(path).Select(Path.GetFileName).OfType<string>()];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    public bool CreateDirectory(string path)
    {
        if (Libc.mkdir(path, 0x1ED /* 0755 */) == 0)
        {
            return true;
        }

        var errno = Libc.LastErrno;
        return errno == Libc.EEXIST ? false : throw new CgroupFileSystemException("mkdir", path, errno);
    }

    public int RemoveDirectory(string path) => Libc.rmdir(path) == 0 ? 0 : Libc.LastErrno;

    public bool IsWritable(string path) => Libc.access(path, Libc.W_OK) == 0;
}
