namespace Boxlite.Runtime.State;

/// <summary>The default store of a home directory.</summary>
internal static class BoxStores
{
    public static IBoxStore OpenDefault(string homeDirectory, TimeProvider time) => SqliteBoxStore.Open(homeDirectory, time);
}
