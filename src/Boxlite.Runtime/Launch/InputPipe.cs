using System.Runtime.Versioning;
using Boxlite.Runtime.Interop;
using Microsoft.Win32.SafeHandles;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// This process's end of a pipe a child reads as its input, non-blocking underneath. A write that finds the pipe full
/// waits for room in a <c>poll</c> that cancellation and <see cref="Stream.Dispose()"/> end; a <c>write</c> blocked on
/// a pipe returns only once somebody reads, and a process a box left behind may hold the other end for ever unread.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InputPipe : Stream
{
    private readonly SafeFileHandle _pipe;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Takes over <paramref name="pipe"/>, the write end of a pipe, already non-blocking.</summary>
    public InputPipe(SafeFileHandle pipe) => _pipe = pipe;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_disposed.IsCancellationRequested;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var written = TryWrite(buffer);
            if (written == 0)
            {
                WaitForRoom(CancellationToken.None);
            }

            buffer = buffer[written..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var written = TryWrite(buffer.Span);
            if (written == 0)
            {
                // On a pool thread, as a blocking write would be; unlike one, it ends when cancelled.
                await Task.Run(() => WaitForRoom(cancellationToken), CancellationToken.None).ConfigureAwait(false);
            }

            buffer = buffer[written..];
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Wakes a write waiting for room; the descriptor closes once no write uses it.
            _disposed.Cancel();
            _pipe.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Writes what the pipe has room for: how many bytes, 0 when it is full.</summary>
    private unsafe int TryWrite(ReadOnlySpan<byte> bytes)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var added = false;
        try
        {
            _pipe.DangerousAddRef(ref added);
            fixed (byte* start = bytes)
            {
                while (true)
                {
                    var written = Posix.write((int)_pipe.DangerousGetHandle(), start, bytes.Length);
                    if (written >= 0)
                    {
                        return (int)written;
                    }

                    var errno = Posix.LastErrno;
                    if (errno == Posix.EAGAIN)
                    {
                        return 0;
                    }

                    if (errno != Posix.EINTR)
                    {
                        throw new IOException($"write to a child's input: {Posix.Describe(errno)}");
                    }
                }
            }
        }
        finally
        {
            if (added)
            {
                _pipe.DangerousRelease();
            }
        }
    }

    /// <summary>Waits until the pipe has room or its reader is gone; throws when cancelled or disposed first.</summary>
    private unsafe void WaitForRoom(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        var wake = stackalloc int[2];
        if (Posix.pipe2(wake, Posix.O_CLOEXEC) != 0)
        {
            throw new IOException($"pipe2: {Posix.Describe(Posix.LastErrno)}");
        }

        var added = false;
        try
        {
            _pipe.DangerousAddRef(ref added);
            using (stop.Token.UnsafeRegister(static end => Wake((int)end!), wake[1]))
            {
                var watched = stackalloc Posix.PollFd[2];
                watched[0] = new Posix.PollFd { Fd = (int)_pipe.DangerousGetHandle(), Events = Posix.POLLOUT };
                watched[1] = new Posix.PollFd { Fd = wake[0], Events = Posix.POLLIN };
                while (Posix.poll(watched, 2, -1) < 0 && Posix.LastErrno == Posix.EINTR)
                {
                }
            }
        }
        finally
        {
            if (added)
            {
                _pipe.DangerousRelease();
            }

            _ = Posix.close(wake[0]);
            _ = Posix.close(wake[1]);
        }

        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static unsafe void Wake(int fd)
    {
        byte one = 1;
        _ = Posix.write(fd, &one, 1);
    }
}
