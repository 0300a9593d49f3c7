using System.Diagnostics;

namespace Boxlite.Runtime.Benchmarks.Peers;

/// <summary>External programs: found on PATH, run to their end with their output read (and dropped or kept).</summary>
internal static class Tools
{
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>, stdout and stderr read to their end; returns the exit code.</summary>
    public static async Task<int> RunAsync(string file, IEnumerable<string> args, Action<string>? stdout = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        stdout?.Invoke(await output);
        var code = process.ExitCode;
        var problem = await error;
        if (code != 0 && problem.Length > 0)
        {
            await Console.Error.WriteLineAsync($"{Path.GetFileName(file)}: {problem.Trim()}");
        }

        return code;
    }

    /// <summary>Times <see cref="RunAsync"/> in milliseconds; throws unless the program exits 0.</summary>
    public static async Task<double> TimeAsync(string file, IEnumerable<string> args)
    {
        var clock = Stopwatch.StartNew();
        var code = await RunAsync(file, args);
        var ms = clock.Elapsed.TotalMilliseconds;
        return code == 0 ? ms : throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}");
    }
}
