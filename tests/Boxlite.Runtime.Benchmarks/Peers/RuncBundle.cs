using System.Globalization;
using System.Text.Json.Nodes;

namespace Boxlite.Runtime.Benchmarks.Peers;

/// <summary>
/// An OCI bundle for Debian's <c>runc</c>: a rootfs of <c>busybox-static</c> (<c>/bin/busybox</c> and a <c>true</c>
/// link to it) and the config <c>runc spec</c> writes, made non-interactive and pointed at <c>/bin/true</c>. Its
/// container state lives in the bundle too; disposing removes all of it.
/// </summary>
internal sealed class RuncBundle : IDisposable
{
    private const string Busybox = "/bin/busybox";
    private readonly string _prefix;
    private int _runs;

    private RuncBundle(string directory, string prefix)
    {
        Directory = directory;
        _prefix = prefix;
    }

    public string Directory { get; }

    /// <summary>Makes the bundle in a new temp directory; <paramref name="prefix"/> names its containers and their cgroups.</summary>
    public static async Task<RuncBundle> CreateAsync(string prefix)
    {
        var runc = Tools.Find("runc") ?? throw new InvalidOperationException("runc is not installed (apt-get install runc)");
        if (!File.Exists(Busybox))
        {
            throw new InvalidOperationException($"{Busybox} is missing (apt-get install busybox-static)");
        }

        var dir = System.IO.Directory.CreateTempSubdirectory("boxlite-bench-runc-").FullName;
        var bundle = new RuncBundle(dir, prefix);
        try
        {
            var bin = System.IO.Directory.CreateDirectory(Path.Combine(dir, "rootfs", "bin")).FullName;
            File.Copy(Busybox, Path.Combine(bin, "busybox"));
            File.CreateSymbolicLink(Path.Combine(bin, "true"), "busybox");
            var spec = await Tools.RunAsync(runc, ["spec", "--bundle", dir]);
            if (spec != 0)
            {
                throw new InvalidOperationException($"runc spec exited {spec}");
            }

            var configFile = Path.Combine(dir, "config.json");
            var config = JsonNode.Parse(await File.ReadAllTextAsync(configFile))!;
            config["process"]!["terminal"] = false;
            config["process"]!["args"] = new JsonArray("/bin/true");
            await File.WriteAllTextAsync(configFile, config.ToJsonString());
            return bundle;
        }
        catch
        {
            bundle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>runc run</c> of one new container (created, started, waited for and deleted by runc); its cgroup is named
    /// after the container, at the top of each hierarchy, and removed by runc.
    /// </summary>
    public (string File, string[] Args) NextRun()
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"{_prefix}-runc{Interlocked.Increment(ref _runs)}");
        return ("runc", ["--root", Path.Combine(Directory, "state"), "run", "--bundle", Directory, id]);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
