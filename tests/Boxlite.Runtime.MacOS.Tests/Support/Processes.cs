using System.Diagnostics;

namespace Boxlite.Runtime.MacOS.Tests.Support;

internal static class Processes
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    /// <summary>Starts a process with all three standard streams redirected (never a terminal).</summary>
    public static Process Start(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds; false when the generous deadline passes.</summary>
    public static async Task<bool> Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    public static async Task<bool> ExitsAsync(Process process)
    {
        using var timeout = new CancellationTokenSource(Generous);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
