using System.Diagnostics;
using System.Text.Json;

namespace Boxlite.Cli.Tests;

/// <summary>
/// A throw-away Boxlite home with its own cgroup parent (so that recovery in one test never touches another test's
/// boxes). Disposing it force-removes every box it holds, then the home and the (by then empty) cgroup parent.
/// </summary>
internal sealed class TestHome : IAsyncDisposable
{
    private static readonly Lazy<Task<string?>> BoxesUnavailable = new(ProbeAsync);

    /// <summary>
    /// A new home path (not created) with its own cgroup parent; with <paramref name="derivedCgroupParent"/>, no
    /// <c>--cgroup-parent</c> is passed and boxlite derives the parent from the home (name it with
    /// <see cref="AdoptCgroupParent"/> so that it is removed at the end).
    /// </summary>
    public TestHome(bool derivedCgroupParent = false)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        Directory = Path.Combine(Path.GetTempPath(), $"boxlite-cli-test-{suffix}");
        CgroupParent = derivedCgroupParent ? null : $"boxlite-test-{suffix}";
    }

    public string Directory { get; }

    /// <summary>The cgroup parent passed to every command, or null when boxlite derives it.</summary>
    public string? CgroupParent { get; }

    private string? _derivedCgroupParent;

    /// <summary>Box directory of <paramref name="id"/>.</summary>
    public string BoxDirectory(string id) => Path.Combine(Directory, "boxes", id);

    /// <summary>Records the parent boxlite derived for this home, so that disposing removes it (it is still not passed).</summary>
    public void AdoptCgroupParent(string parent) => _derivedCgroupParent = parent;

    /// <summary>Box directories in the home now.</summary>
    public string[] BoxDirectories =>
        System.IO.Directory.Exists(Path.Combine(Directory, "boxes"))
            ? System.IO.Directory.GetDirectories(Path.Combine(Directory, "boxes")).Select(Path.GetFileName).OfType<string>().ToArray()
            : [];

    /// <summary>Skips the test unless this host can run real boxes (Linux, root, a usable cgroup v2 box root).</summary>
    public static async Task RequireBoxesAsync()
    {
        var reason = await BoxesUnavailable.Value;
        Assert.SkipUnless(reason is null, reason ?? "");
    }

    /// <summary>Skips the test unless it runs on Linux (the CLI needs a platform even to reject input).</summary>
    public static void RequireLinux() =>
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the boxlite CLI tests need the Linux platform");

    public Process Start(params string[] args) => StartAt(Directory, args);

    /// <summary>Starts boxlite on this home spelled as <paramref name="home"/> (e.g. through a symbolic link).</summary>
    public Process StartAt(string home, params string[] args) =>
        Cli.Start(Cli.DllPath, ["--home", home, .. CgroupParentArgs, .. args]);

    /// <summary>Starts boxlite under the umask <paramref name="umask"/> (octal).</summary>
    public Process StartWithUmask(string umask, params string[] args) =>
        Cli.Start(Cli.DllPath, ["--home", Directory, .. CgroupParentArgs, .. args], umask);

    public async Task<CliResult> RunAsync(params string[] args) => await Cli.CompleteAsync(Start(args));

    private string[] CgroupParentArgs => CgroupParent is null ? [] : ["--cgroup-parent", CgroupParent];

    /// <summary>Runs and expects exit code 0.</summary>
    public async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        result.ExitCode.Should().Be(0, $"boxlite {string.Join(' ', args)} succeeds; {result}");
        return result;
    }

    /// <summary>Starts a detached box and returns its id.</summary>
    public async Task<string> RunDetachedAsync(params string[] argsAfterRun)
    {
        var result = await OkAsync(["run", "-d", .. argsAfterRun]);
        return result.StdoutLines[^1];
    }

    /// <summary>Every box (<c>ls -a --json</c>).</summary>
    public async Task<JsonElement[]> ListAllAsync() =>
        [.. (await OkAsync("ls", "-a", "--json")).Json.EnumerateArray()];

    public async Task<JsonElement> InspectAsync(string box) => (await OkAsync("inspect", box, "--json")).Json;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory))
            {
                var ids = (await ListAllAsync()).Select(b => b.GetProperty("id").GetString()!).ToArray();
                if (ids.Length > 0)
                {
                    await OkAsync(["rm", "-f", .. ids]);
                }
            }
        }
        finally
        {
            if (System.IO.Directory.Exists(Directory))
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }

            if ((CgroupParent ?? _derivedCgroupParent) is { } parent)
            {
                RemoveCgroupParent(parent);
            }
        }
    }

    /// <summary>rmdir of this home's cgroup parent in every cgroup hierarchy (it is empty once its boxes are gone).</summary>
    private static void RemoveCgroupParent(string parent)
    {
        if (!File.Exists("/proc/self/mountinfo"))
        {
            return;
        }

        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var halves = line.Split(" - ");
            if (halves.Length < 2 || !halves[1].StartsWith("cgroup", StringComparison.Ordinal))
            {
                continue;
            }

            var dir = Path.Combine(line.Split(' ')[4], parent);
            if (System.IO.Directory.Exists(dir))
            {
                System.IO.Directory.Delete(dir);
            }
        }
    }

    private static async Task<string?> ProbeAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "real boxes need Linux";
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return "real boxes in these tests need root (cgroup v2 box cgroups)";
        }

        await using var home = new TestHome();
        var doctor = await home.RunAsync("doctor", "--json");
        if (doctor.ExitCode != 0)
        {
            return $"boxlite doctor failed: {doctor.Stderr.Trim()}";
        }

        var json = doctor.Json;
        var boxCgroups = json.GetProperty("checks").EnumerateArray().FirstOrDefault(c => c.GetProperty("name").GetString() == "box cgroups");
        if (boxCgroups.ValueKind != JsonValueKind.Object || !boxCgroups.GetProperty("ok").GetBoolean())
        {
            return "boxlite doctor reports no usable box cgroups on this host";
        }

        return json.GetProperty("guarantee").GetString() == "wholeTree" ? null : "the active reaper does not guarantee the whole tree here";
    }
}
