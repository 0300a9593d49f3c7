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
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            lock (_lines)
            {
                var line = _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[prefix.Length..].Trim();
                }
            }

            if (_output.IsCompleted)
            {
                throw new InvalidOperationException($"the test host ended without printing '{prefix}': {await _output} {await _error}");
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"the test host did not print '{prefix}' within {deadline}");
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
