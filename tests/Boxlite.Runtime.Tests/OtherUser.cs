using System.Diagnostics;
using System.Globalization;

namespace Boxlite.Runtime.Tests;

/// <summary>
/// The unprivileged user <c>nobody</c>, a real second user for the home-trust and permission tests: a shell script
/// run as nobody (through <c>setpriv</c>, no supplementary groups).
/// </summary>
internal static class OtherUser
{
    private static readonly Lazy<(int Uid, int Gid)?> Ids = new(Lookup);

    /// <summary>nobody's uid.</summary>
    public static int Uid => Ids.Value?.Uid ?? throw new InvalidOperationException(Unavailable);

    /// <summary>Why the tests cannot act as nobody here, or null when they can.</summary>
    public static string? Unavailable =>
        !OperatingSystem.IsLinux() ? "acting as a second user needs Linux (setpriv)"
        : !Environment.IsPrivilegedProcess ? "acting as the user nobody needs root"
        : !File.Exists("/usr/bin/setpriv") ? "setpriv (util-linux) is missing"
        : Ids.Value is null ? "there is no user nobody"
        : null;

    /// <summary>Skips the test, with the reason, unless it can act as nobody.</summary>
    public static void Require() => Assert.SkipUnless(Unavailable is null, Unavailable ?? "");

    /// <summary>Runs <c>sh -c <paramref name="script"/></c> as nobody and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script)
    {
        var (uid, gid) = Ids.Value ?? throw new InvalidOperationException(Unavailable);
        var start = new ProcessStartInfo("/usr/bin/setpriv")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var arg in (string[])[$"--reuid={uid}", $"--regid={gid}", "--clear-groups", "--", "/bin/sh", "-c", script])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("setpriv did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"nobody's script did not finish within a minute: {script}");
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>Runs a script as nobody that must succeed.</summary>
    public static async Task DoAsync(string script)
    {
        var (code, output) = await RunAsync(script);
        code.Should().Be(0, $"nobody runs: {script}\n{output}");
    }

    private static (int, int)? Lookup()
    {
        if (!File.Exists("/etc/passwd"))
        {
            return null;
        }

        var fields = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f.Length > 3 && f[0] == "nobody");
        return fields is null
            ? null
            : (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
    }
}
