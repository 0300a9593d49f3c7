namespace Boxlite.Runtime;

/// <summary>The base of every failure this library reports.</summary>
public abstract class BoxliteException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected BoxliteException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>Text that is not a box id.</summary>
public sealed class InvalidBoxIdException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public InvalidBoxIdException(string? text)
        : base($"'{Shorten(text)}' is not a box id: expected {BoxId.Length} characters of [a-z0-9]") => Text = text;

    /// <summary>The rejected text.</summary>
    public string? Text { get; }

    private static string Shorten(string? text) =>
        text is null ? "(null)" : (text.Length > 40 ? text[..40] + "…" : text).Replace("\0", "\\0", StringComparison.Ordinal);
}

/// <summary>No box has that id, id prefix or name.</summary>
public sealed class BoxNotFoundException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public BoxNotFoundException(string reference)
        : base($"no such box: {reference}") => Reference = reference;

    /// <summary>The id, prefix or name that was looked up.</summary>
    public string Reference { get; }
}

/// <summary>An id prefix that matches more than one box.</summary>
public sealed class AmbiguousBoxReferenceException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public AmbiguousBoxReferenceException(string reference, IReadOnlyList<BoxId> matches)
        : base($"'{reference}' matches {matches.Count} boxes: {string.Join(", ", matches.Take(5))}{(matches.Count > 5 ? ", …" : "")}")
    {
        Reference = reference;
        Matches = matches;
    }

    /// <summary>The prefix that was looked up.</summary>
    public string Reference { get; }

    /// <summary>The boxes it matches.</summary>
    public IReadOnlyList<BoxId> Matches { get; }
}

/// <summary>A second box with a name already in use.</summary>
public sealed class BoxNameConflictException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public BoxNameConflictException(string name)
        : base($"the name '{name}' is already in use by another box") => Name = name;

    /// <summary>The contested name.</summary>
    public string Name { get; }
}

/// <summary>An operation that the box's current state does not allow.</summary>
public sealed class InvalidBoxStateException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public InvalidBoxStateException(BoxId id, BoxState state, string what)
        : base($"box {id} is {state.ToString().ToLowerInvariant()}: {what}")
    {
        Id = id;
        State = state;
    }

    /// <summary>The box.</summary>
    public BoxId Id { get; }

    /// <summary>Its state when the operation was refused.</summary>
    public BoxState State { get; }
}

/// <summary>Invalid box options; lists every problem, not only the first.</summary>
public sealed class InvalidBoxOptionsException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public InvalidBoxOptionsException(IReadOnlyList<string> problems)
        : base("invalid box options: " + string.Join("; ", problems)) => Problems = problems;

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}

/// <summary>Something this host cannot do, with the reason and the fix.</summary>
public sealed class PlatformCapabilityException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public PlatformCapabilityException(string reason, string fix, Exception? inner = null)
        : base($"{reason} (fix: {fix})", inner)
    {
        Reason = reason;
        Fix = fix;
    }

    /// <summary>What is missing.</summary>
    public string Reason { get; }

    /// <summary>How to get it.</summary>
    public string Fix { get; }
}

/// <summary>A process of a box that outlived a reap.</summary>
/// <param name="Pid">Its pid.</param>
/// <param name="Name">Its command name.</param>
/// <param name="State">Its scheduler state letter (<c>D</c> is uninterruptible sleep).</param>
public sealed record BoxProcessInfo(int Pid, string Name, char State)
{
    /// <inheritdoc />
    public override string ToString() => $"{Pid} ({Name}, state {State})";
}

/// <summary>A reap that could not confirm the tree gone before its deadline.</summary>
public sealed class ReapTimeoutException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public ReapTimeoutException(BoxId id, TimeSpan waited, IReadOnlyList<BoxProcessInfo> survivors, string? detail = null)
        : base($"box {id}: {survivors.Count} process(es) survived the reap after {waited.TotalMilliseconds:F0} ms: " +
               string.Join(", ", survivors.Take(10)) + (survivors.Count > 10 ? ", …" : "") + (detail is null ? "" : $" ({detail})"))
    {
        Id = id;
        Survivors = survivors;
    }

    /// <summary>The box.</summary>
    public BoxId Id { get; }

    /// <summary>The processes still present at the deadline.</summary>
    public IReadOnlyList<BoxProcessInfo> Survivors { get; }
}

/// <summary>The box store is unusable: corrupt, foreign, from a newer version, or unreachable.</summary>
public sealed class BoxStoreException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public BoxStoreException(string path, string problem, Exception? inner = null)
        : base($"box store {path}: {problem}", inner) => Path = path;

    /// <summary>The database file.</summary>
    public string Path { get; }
}

/// <summary>A box that could not be started; it is left <see cref="BoxState.Failed"/> with nothing running.</summary>
public sealed class BoxStartException : BoxliteException
{
    /// <summary>Creates the exception.</summary>
    public BoxStartException(BoxId id, string reason, Exception? inner = null)
        : base($"box {id} failed to start: {reason}", inner) => Id = id;

    /// <summary>The box.</summary>
    public BoxId Id { get; }
}
