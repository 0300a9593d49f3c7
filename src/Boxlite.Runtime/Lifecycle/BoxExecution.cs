namespace Boxlite.Runtime;

/// <summary>
/// A command run inside a box, seen as the lines of its output in the order they arrive, tagged with their stream.
/// Enumerate it once, to its end (the command is started when the enumeration begins, and held back while the
/// enumeration does not read); then <see cref="ExitCode"/> holds the command's exit code. Ending the enumeration early,
/// or cancelling it, kills the command.
/// </summary>
public sealed class BoxExecution : IAsyncEnumerable<BoxLogLine>
{
    private readonly Func<BoxExecution, CancellationToken, IAsyncEnumerable<BoxLogLine>> _run;
    private readonly CancellationToken _cancellationToken;
    private int _enumerated;
    private int? _exitCode;

    internal BoxExecution(Func<BoxExecution, CancellationToken, IAsyncEnumerable<BoxLogLine>> run, CancellationToken cancellationToken)
    {
        _run = run;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The exit code (128 + signal when a signal ended it), once the output was enumerated to its end.</summary>
    /// <exception cref="InvalidOperationException">The enumeration has not reached the end.</exception>
    public int ExitCode => _exitCode ?? throw new InvalidOperationException("the command has not finished: enumerate its output to the end first");

    /// <summary>The reading of the command's output, once enumerated: it completes when nothing reads it any more.</summary>
    internal Task Pumping { get; set; } = Task.CompletedTask;

    internal void Exited(int exitCode) => _exitCode = exitCode;

    /// <inheritdoc />
    public IAsyncEnumerator<BoxLogLine> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("the output of an exec can be enumerated only once");
        }

        // The token given at the call and the enumerator's token both cancel (the iterator combines them).
        return _run(this, _cancellationToken).GetAsyncEnumerator(cancellationToken);
    }
}
