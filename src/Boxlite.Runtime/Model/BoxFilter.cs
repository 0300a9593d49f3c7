namespace Boxlite.Runtime;

/// <summary>
/// Which boxes <see cref="IBoxRuntime.ListAsync(BoxFilter?, CancellationToken)"/> and
/// <see cref="IBoxRuntime.PruneAsync"/> consider. Every condition that is set must hold; an empty filter matches every box.
/// </summary>
public sealed record BoxFilter
{
    /// <summary>The states to keep (as noticed now: a box whose command ended counts as exited); null for any.</summary>
    public IReadOnlyCollection<BoxState>? States { get; init; }

    /// <summary>Keeps boxes whose name starts with this (ordinal); null for any, named or not.</summary>
    public string? NamePrefix { get; init; }

    /// <summary>
    /// Label selectors, each <c>key</c> (the box has the label) or <c>key=value</c> (the label has exactly this value);
    /// every one must match. Label keys never contain <c>=</c>, so the first <c>=</c> separates key and value.
    /// </summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>True when <paramref name="box"/> meets every condition of this filter.</summary>
    public bool Matches(BoxInfo box)
    {
        ArgumentNullException.ThrowIfNull(box);
        return MatchesRecord(box) && (States is null || States.Contains(box.State));
    }

    /// <summary>The conditions that do not depend on the state (checked before exits are noticed).</summary>
    internal bool MatchesRecord(BoxInfo box) =>
        (NamePrefix is null || (box.Name?.StartsWith(NamePrefix, StringComparison.Ordinal) ?? false)) &&
        Labels.All(selector => MatchesLabel(box.Options.Labels, selector));

    /// <summary>Throws <see cref="ArgumentException"/> for a selector with an empty key.</summary>
    internal void Validate()
    {
        foreach (var selector in Labels ?? throw new ArgumentException("labels is null", nameof(Labels)))
        {
            if (string.IsNullOrEmpty(selector) || selector[0] == '=')
            {
                throw new ArgumentException($"label selector '{selector}' has no key: use key or key=value", nameof(Labels));
            }
        }
    }

    private static bool MatchesLabel(IReadOnlyDictionary<string, string> labels, string selector)
    {
        var equals = selector.IndexOf('=', StringComparison.Ordinal);
        return equals < 0
            ? labels.ContainsKey(selector)
            : labels.TryGetValue(selector[..equals], out var value) && value == selector[(equals + 1)..];
    }
}
