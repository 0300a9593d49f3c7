using System.Diagnostics;
using System.Reflection;

namespace Boxlite.Runtime.Tests;

/// <summary>A run of the test host (tests/Boxlite.Runtime.TestHost) as a separate process.</summary>
internal sealed class TestHostProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task<string> _output;
    private readonly Task<string> _error;

    private TestHostProcess(Process process)
    {
        _process = process;
        _output = CollectAsync(process.StandardOutput);
        _error = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The host's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>Waits for the first output line starting with <paramref name="prefix"/> and returns the rest of it.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan deadline) => (await WaitForLinesAsync(prefix, 1, deadline))[0];

    /// <summary>Waits for <paramref name="count"/> output lines starting with <paramref name="prefix"/> and returns the rest of each.</summary>
    public async Task<List<string>> WaitForLinesAsync(string prefix, int count, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            lock (_lines)
            {
                var found = _lines.Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).Select(l => l[prefix.Length..].Trim()).ToList();
                if (found.Count >= count)
                {
                    return found[..count];
                }
            }

            if (_output.IsCompleted)
            {
                throw new InvalidOperationException($"the test host ended without printing {count} lines '{prefix}': {await _output} {await _error}");
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"the test host did not print {count} lines '{prefix}' within {deadline}");
    }

    /// <summary>
    /// The barrier of the test host: waits until every host says it is ready, then lets them all go at once, so that their
    /// work truly overlaps however slowly each started.
    /// </summary>
    public static async Task ReleaseTogetherAsync(TimeSpan deadline, params TestHostProcess[] hosts)
    {
        await Task.WhenAll(hosts.Select(h => h.WaitForLineAsync("ready", deadline)));
        foreach (var host in hosts)
        {
            await host._process.StandardInput.WriteLineAsync("go");
            await host._process.StandardInput.FlushAsync();
        }
    }

    /// <summary>True when the work windows two hosts printed after the barrier (<c>window began ended</c>) overlap.</summary>
    public static bool Overlapped(string firstOutput, string secondOutput)
    {
        var (a, b) = (WindowOf(firstOutput), WindowOf(secondOutput));
        return a.Began <= b.Ended && b.Began <= a.Ended;
    }

    private static (long Began, long Ended) WindowOf(string output)
    {
        var words = output.Split('\n').Single(l => l.StartsWith("window ", StringComparison.Ordinal)).Split(' ');
        return (long.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture), long.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>SIGKILLs the host: a process this test started.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    private async Task<string> CollectAsync(StreamReader reader)
    {
        var all = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }

            all.AppendLine(line);
        }

        return all.ToString();
    }

    /// <summary>The test host's dll, as the build recorded it in this assembly.</summary>
    public static string DllPath { get; } =
        typeof(TestHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "BoxliteTestHost").Value
        ?? throw new InvalidOperationException("the build did not record the test host path");

    /// <summary>Starts the test host with a verb and its arguments.</summary>
    public static TestHostProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    /// <summary>Starts the test host with extra environment variables.</summary>
    public static TestHostProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StartThrough([], environment, args);

    /// <summary>Starts the test host through <paramref name="prefix"/> (e.g. <c>setpriv</c> to run it as another user).</summary>
    public static TestHostProcess StartThrough(IReadOnlyList<string> prefix, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        File.Exists(DllPath).Should().BeTrue($"the test host is built with the tests ({DllPath})");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(prefix.Count > 0 ? prefix[0] : dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in prefix.Skip(1).Concat(prefix.Count > 0 ? [dotnet] : []))
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new TestHostProcess(Process.Start(start) ?? throw new InvalidOperationException("the test host did not start"));
    }

    /// <summary>Waits for the exit; kills the host (only it: it starts nothing) when it overruns the deadline.</summary>
    public async Task<(int ExitCode, string Output, string Error)> WaitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            throw new TimeoutException($"the test host did not finish within {deadline}: {await _error}");
        }

        return (_process.ExitCode, await _output, await _error);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
