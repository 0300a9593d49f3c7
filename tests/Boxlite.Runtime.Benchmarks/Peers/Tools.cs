using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Boxlite.Runtime.Benchmarks.Peers;

/// <summary>Wall-clock and CPU time (user + system, of the program and every descendant it waited for) of one run.</summary>
internal readonly record struct RunTime(double WallMs, double? CpuMs);

/// <summary>External programs: found on PATH, run to their end with their output read (and dropped or kept).</summary>
internal static partial class Tools
{
    private const int RusageChildren = -1;

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

    /// <summary>
    /// Times <see cref="RunAsync"/>; throws unless the program exits 0. The CPU time is the growth of this process's
    /// reaped-children usage, so it holds only while nothing else of this process exits meanwhile (runs are sequential).
    /// </summary>
    public static async Task<RunTime> TimeAsync(string file, string[] args)
    {
        var cpu = ChildrenCpuMs();
        var clock = Stopwatch.StartNew();
        var code = await RunAsync(file, args);
        var ms = clock.Elapsed.TotalMilliseconds;
        return code == 0
            ? new RunTime(ms, ChildrenCpuMs() - cpu)
            : throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}");
    }

    private static double ChildrenCpuMs() =>
        getrusage(RusageChildren, out var usage) == 0
            ? ((usage.UserSeconds + usage.SystemSeconds) * 1000.0) + ((usage.UserMicroseconds + usage.SystemMicroseconds) / 1000.0)
            : throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrusage(int who, out Rusage usage);

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        private readonly long _rest0, _rest1, _rest2, _rest3, _rest4, _rest5, _rest6, _rest7, _rest8, _rest9, _rest10, _rest11, _rest12, _rest13;
    }
}
