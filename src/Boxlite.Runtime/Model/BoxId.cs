using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Boxlite.Runtime;

/// <summary>
/// The identity of a box: exactly <see cref="Length"/> characters of <c>[a-z0-9]</c>.
/// It is the only input to any path or cgroup name, so path traversal is unrepresentable.
/// </summary>
public readonly record struct BoxId
{
    /// <summary>The fixed length of every box id.</summary>
    public const int Length = 16;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly string? _value;

    private BoxId(string value) => _value = value;

    /// <summary>The id as text.</summary>
    public string Value => _value ?? throw new InvalidOperationException("A default BoxId has no value.");

    /// <summary>Mints a new random id.</summary>
    public static BoxId New() => new(RandomNumberGenerator.GetString(Alphabet, Length));

    /// <summary>Parses an id, throwing <see cref="InvalidBoxIdException"/> when <paramref name="text"/> is not one.</summary>
    public static BoxId Parse(string? text) =>
        TryParse(text, out var id) ? id : throw new InvalidBoxIdException(text);

    /// <summary>Parses an id without throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out BoxId id)
    {
        id = default;
        if (text is null || text.Length != Length || !IsIdText(text))
        {
            return false;
        }

        id = new BoxId(text);
        return true;
    }

    /// <summary>True when every character of <paramref name="text"/> is in the id alphabet (used for prefixes).</summary>
    public static bool IsIdText(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterLower(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override string ToString() => _value ?? string.Empty;
}
