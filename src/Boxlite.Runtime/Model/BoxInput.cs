using System.Text;

namespace Boxlite.Runtime;

/// <summary>
/// What a command reads on its standard input: a stream, text or bytes, copied to the command as it reads and then
/// closed (end of file). A command given none reads an empty input.
/// </summary>
public sealed class BoxInput
{
    private readonly Func<Stream, CancellationToken, Task> _copy;

    private BoxInput(Func<Stream, CancellationToken, Task> copy) => _copy = copy;

    /// <summary>The command reads <paramref name="stream"/> from its current position to its end (the stream is not disposed).</summary>
    public static BoxInput FromStream(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return new BoxInput((to, ct) => stream.CopyToAsync(to, ct));
    }

    /// <summary>The command reads <paramref name="text"/>, encoded as <paramref name="encoding"/> (default UTF-8, no byte order mark).</summary>
    public static BoxInput FromText(string text, Encoding? encoding = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        return FromBytes((encoding ?? new UTF8Encoding(false)).GetBytes(text));
    }

    /// <summary>The command reads <paramref name="bytes"/>.</summary>
    public static BoxInput FromBytes(ReadOnlyMemory<byte> bytes) => new((to, ct) => to.WriteAsync(bytes, ct).AsTask());

    /// <summary>
    /// Copies the input to <paramref name="destination"/> and closes it. A command that exits (or closes its input)
    /// before reading everything simply does not get the rest, nor does one whose feeding is cancelled.
    /// </summary>
    internal async Task FeedAsync(Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            await _copy(destination, cancellationToken).ConfigureAwait(false);
            await destination.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The reading end is closed (the command no longer reads), or the host stopped feeding or let go of the pipe.
        }
        finally
        {
            try
            {
                await destination.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }
    }
}
