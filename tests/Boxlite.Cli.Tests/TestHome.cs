using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Boxlite.Runtime;
using Boxlite.Runtime.Linux.Tests;
using Boxlite.Runtime.State;

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

    /// <summary>A value boxes started with <c>-e BOX_MARKER=…</c> carry, so their processes can be found in /proc.</summary>
    public string Marker { get; } = "m" + Guid.NewGuid().ToString("N");

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
        Cli.Start(Cli.DllPath, ["--home", Directory, .. CgroupParentArgs, .. args], ["/bin/sh", "-c", $"umask {umask} && exec \"$0\" \"$@\""]);

    public async Task<CliResult> RunAsync(params string[] args) => await Cli.CompleteAsync(Start(args));

    /// <summary>Runs boxlite with <paramref name="input"/> on its stdin.</summary>
    public async Task<CliResult> RunWithInputAsync(string input, params string[] args) =>
        await Cli.CompleteAsync(Cli.Start(Cli.DllPath, ["--home", Directory, .. CgroupParentArgs, .. args], input: input));

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

    /// <summary>Every record in the home's store, read directly (no store yet: none).</summary>
    public async Task<IReadOnlyList<BoxInfo>> RecordsAsync()
    {
        if (!File.Exists(Path.Combine(Directory, SqliteBoxStore.FileName)))
        {
            return [];
        }

        using var store = SqliteBoxStore.Open(Directory);
        return await store.ListAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The record of the box with this id or name, read directly from the store.</summary>
    public async Task<BoxInfo> RecordAsync(string idOrName) =>
        (await RecordsAsync()).Should().ContainSingle(b => b.Id.Value == idOrName || b.Name == idOrName, $"the store holds box {idOrName}").Subject;

    /// <summary>Live processes carrying <see cref="Marker"/>, found independently of any cgroup.</summary>
    public List<int> MarkedProcesses() => Markers.Carrying("BOX_MARKER=" + Marker);

    /// <summary>The box's cgroup directories that exist, in every cgroup hierarchy.</summary>
    public List<string> BoxCgroups(string id) =>
        [.. TestCgroups.ParentDirectories(ActiveCgroupParent).Select(p => Path.Combine(p, id)).Where(System.IO.Directory.Exists)];

    /// <summary>The box's cgroup directory in the cgroup v2 hierarchy (whether or not it exists).</summary>
    public string V2BoxCgroup(string id) => Path.Combine(TestCgroups.Mounts().Single(m => m.V2).Point, ActiveCgroupParent, id);

    /// <summary>
    /// The cgroup parent this home's boxes live under: the one passed, the one adopted, or the one boxlite derives (its
    /// documented rule: <c>boxlite-</c> and 12 hex digits of the SHA-256 of the resolved home, which a temp path is).
    /// </summary>
    private string ActiveCgroupParent =>
        CgroupParent ?? _derivedCgroupParent ?? "boxlite-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(Directory))))[..12];

    public async ValueTask DisposeAsync()
    {
        try
        {
            if ((await RecordsAsync()).Count > 0)
            {
                // Like "boxlite rm -f" on every box, in this process.
                await using var runtime = await new BoxliteRuntimeBuilder()
                    .Configure(o => o.HomeDirectory = Directory)
                    .AddLinux(o => o.CgroupParent = CgroupParent ?? _derivedCgroupParent)
                    .BuildAsync();
                foreach (var box in await runtime.ListAsync())
                {
                    await runtime.RemoveAsync(box.Id.Value, force: true);
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
                TestCgroups.Remove(parent);
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
