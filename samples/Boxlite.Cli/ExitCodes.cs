namespace Boxlite.Cli;

/// <summary>The CLI's exit codes, and the one-line report of a failure.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>Bad input, an unknown box, or a state change the box's state does not allow.</summary>
    public const int BadInput = 1;

    /// <summary>A runtime failure (the host cannot do it, a reap could not be confirmed, the store failed, a bug).</summary>
    public const int RuntimeFailure = 125;

    /// <summary>Interrupted (SIGINT) before a result was known.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit code of <paramref name="e"/>.</summary>
    public static int Of(Exception e) => e switch
    {
        CliUsageException or InvalidBoxOptionsException or InvalidBoxIdException or BoxNotFoundException
            or AmbiguousBoxReferenceException or BoxNameConflictException or InvalidBoxStateException => BadInput,
        OperationCanceledException => Interrupted,
        _ => RuntimeFailure,
    };

    /// <summary>Writes <c>boxlite: message</c> (the whole exception with <paramref name="debug"/>) and returns the exit code.</summary>
    public static int Report(Exception e, bool debug)
    {
        var code = Of(e);
        if (code == Interrupted && !debug)
        {
            Console.Error.WriteLine("boxlite: interrupted");
        }
        else
        {
            var message = code == RuntimeFailure && e is not BoxliteException
                ? $"unexpected {e.GetType().Name}: {OneLine(e.Message)} (--debug shows where)"
                : OneLine(e.Message);
            Console.Error.WriteLine(debug ? $"boxlite: {e}" : $"boxlite: {message}");
        }

        return code;
    }

    private static string OneLine(string message) =>
        Say.Printable(message.ReplaceLineEndings(" ").Trim());
}
