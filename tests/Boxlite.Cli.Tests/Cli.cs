using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Boxlite.Cli.Tests;

/// <summary>The outcome of one CLI run.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the built <c>boxlite</c> (and the worker sample) as separate processes.</summary>
internal static partial class Cli
{
    /// <summary>Generous: only there so that a hang fails the test instead of the run.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public static string DllPath { get; } = Recorded("BoxliteCli");

    public static string WorkerSamplePath { get; } = Recorded("BoxliteWorkerSample");

    /// <summary>Starts <c>[prefix…] dotnet DLL args</c> with redirected output; its stdin is <paramref name="input"/>, then end of file.</summary>
    public static Process Start(string dll, IEnumerable<string> args, IReadOnlyList<string>? prefix = null, string input = "")
    {
        File.Exists(dll).Should().BeTrue($"the sample is built with the tests ({dll})");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(prefix is { Count: > 0 } ? prefix[0] : dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("BOXLITE_HOME");
        start.Environment.Remove("BOXLITE_CGROUP_PARENT");
        foreach (var arg in prefix is { Count: > 0 } ? [.. prefix.Skip(1), dotnet] : Array.Empty<string>())
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        return process;
    }

    /// <summary>Waits for a process this test started, killing it (only it) past the deadline.</summary>
    public static async Task<CliResult> CompleteAsync(Process process, Task<string>? stdout = null)
    {
        stdout ??= process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync();
            throw new TimeoutException($"boxlite did not finish within {Deadline}: {await stderr}");
        }

        return new CliResult(process.ExitCode, (await stdout).Replace("\r", "", StringComparison.Ordinal), await stderr);
    }

    /// <summary>Sends SIGTERM to a process this test started and that has not exited.</summary>
    public static void Terminate(Process process)
    {
        if (!process.HasExited)
        {
            _ = Kill(process.Id, 15);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private static string Recorded(string key) =>
        typeof(Cli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"the build did not record {key}");
}
