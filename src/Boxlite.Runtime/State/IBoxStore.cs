namespace Boxlite.Runtime.State;

/// <summary>
/// Box records. Several processes may use one store at once: every change is a compare-and-set on
/// <see cref="BoxInfo.Version"/> inside a transaction, and names are unique by constraint.
/// </summary>
internal interface IBoxStore : IDisposable
{
    /// <summary>The file (or address) of the store, for messages.</summary>
    string Location { get; }

    /// <summary>Inserts a new record (version 1). Throws <see cref="BoxNameConflictException"/> when the name is taken.</summary>
    Task<BoxInfo> InsertAsync(BoxInfo box, CancellationToken cancellationToken = default);

    /// <summary>The record of <paramref name="id"/>, or null.</summary>
    Task<BoxInfo?> GetAsync(BoxId id, CancellationToken cancellationToken = default);

    /// <summary>The record named <paramref name="name"/>, or null.</summary>
    Task<BoxInfo?> GetByNameAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Records whose id starts with <paramref name="prefix"/> (<c>[a-z0-9]</c> only).</summary>
    Task<IReadOnlyList<BoxInfo>> FindByIdPrefixAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Every record, oldest first.</summary>
    Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the record with <paramref name="updated"/> when its stored version is still
    /// <paramref name="updated"/>.<see cref="BoxInfo.Version"/> and the state change (if any) is allowed by
    /// <see cref="BoxStateMachine"/>. Returns the stored record (version + 1), or null when another writer won.
    /// Throws <see cref="InvalidBoxStateException"/> for a transition the state machine forbids.
    /// </summary>
    Task<BoxInfo?> TryUpdateAsync(BoxInfo updated, CancellationToken cancellationToken = default);

    /// <summary>Deletes the record when its version is still <paramref name="expectedVersion"/>; false when another writer won or it is gone.</summary>
    Task<bool> TryDeleteAsync(BoxId id, long expectedVersion, CancellationToken cancellationToken = default);
}
