namespace Boxlite.Runtime.Platform;

/// <summary>
/// A platform whose containment of a box has a location worth recording: the runtime records it with the box before
/// the containment is made, and every later reap uses the recorded location, whatever its own settings derive.
/// </summary>
internal interface IContainmentLocator
{
    /// <summary>Where the containment of <paramref name="id"/> will be made (Linux: its cgroup path), or null for none.</summary>
    string? Locate(BoxId id);

    /// <summary>Removes this home's parent containments when they are the library's own and empty; returns how many went.</summary>
    int RemoveEmptyParents();
}
