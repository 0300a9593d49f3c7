namespace Boxlite.Runtime.TestHost;

/// <summary>
/// Lets several hosts start their work together: each says "ready", then waits for the test's line on stdin. Each then
/// prints <c>window &lt;began&gt; &lt;ended&gt;</c> (Unix ms) around its work, so the test can check that they overlapped.
/// </summary>
internal static class Barrier
{
    /// <summary>Waits at the barrier, then runs <paramref name="work"/> and prints its window.</summary>
    public static async Task<T> RunTogetherAsync<T>(Func<Task<T>> work)
    {
        Console.WriteLine("ready");
        Console.Out.Flush();
        _ = Console.ReadLine();
        var began = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var result = await work();
        Console.WriteLine($"window {began} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        return result;
    }
}
