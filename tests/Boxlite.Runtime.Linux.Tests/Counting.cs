using System.Diagnostics;
using System.Globalization;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// Proof that a box is frozen: a process deep in its tree keeps counting into a file, and the count must not move while
/// as much time passes as a process of the test itself needs to count the same number of rounds.
/// </summary>
internal static class Counting
{
    /// <summary>
    /// A shell fragment that leaves a counter behind: double-forked into a session of its own, writing to
    /// <paramref name="file"/>. Each count overwrites the last in one write without truncating first (the count never
    /// gets shorter), so a process frozen between two counts never leaves the file empty.
    /// </summary>
    public static string DaemonScript(string file) =>
        $"(setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i 1<>\"{file}\"; sleep 0.01; done' &)";

    /// <summary>The count in <paramref name="file"/>, waiting (bounded) for it to exist and be whole.</summary>
    public static async Task<long> ReadAsync(string file)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            if (File.Exists(file) && long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return count;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"no count appeared in {file}");
    }

    /// <summary>Waits until the count in <paramref name="file"/> passes <paramref name="than"/> (bounded).</summary>
    public static async Task<bool> MovesPastAsync(string file, long than)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            if (await ReadAsync(file) > than)
            {
                return true;
            }

            await Task.Delay(10);
        }

        return false;
    }

    /// <summary>Lets as much time pass as the counter needs for <paramref name="rounds"/> rounds, measured by running them here.</summary>
    public static async Task LetRoundsPassAsync(int rounds = 20)
    {
        using var witness = Process.Start("/bin/sh", ["-c", $"i=0; while [ $i -lt {rounds} ]; do i=$((i+1)); echo $i > /dev/null; sleep 0.01; done"]);
        await witness.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }
}
