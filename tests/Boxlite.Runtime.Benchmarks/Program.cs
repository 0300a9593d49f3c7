using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Boxlite.Runtime.Benchmarks;
using Boxlite.Runtime.Benchmarks.Peers;

// peers | reap | scale | store, each with its options; Markdown on stdout, --json FILE for machines, --readme FILE to
// replace the benchmark's generated section of a README.
if (args.Length == 0 || args[0] is not ("peers" or "reap" or "scale" or "store"))
{
    return Usage();
}

var options = Options.Parse(args[1..]);
if (options is null)
{
    return Usage();
}

var benchmark = args[0];
var cli = options.Cli ?? ReadmeSection.DefaultCli();
if (benchmark == "peers" && !File.Exists(cli))
{
    Console.Error.WriteLine($"The NativeAOT CLI is not built ({cli}): run `bash eng/publish-aot.sh`, or pass --cli PATH. Its rows are left out.");
    if (options.Readme is not null)
    {
        Console.Error.WriteLine("--readme needs every row: build the CLI first.");
        return 2;
    }

    cli = null;
}

var machine = Machine.Describe();
var output = new StringBuilder();
var json = new Dictionary<string, object> { ["machine"] = machine };
void Progress(string line) => Console.Error.WriteLine(line);

await using (var env = new BenchEnvironment())
{
    switch (benchmark)
    {
        case "peers":
            var peers = await new PeersBenchmark(env).RunAsync(options.Count, options.Parallel, options.Boxes, options.ReapSize, cli, Progress);
            json["peers"] = peers;
            Report.Peers(output, peers);
            break;
        case "reap":
            var rows = await new ReapBenchmark(env).RunAsync(options.Sizes, options.Reps, Progress);
            json["reap"] = rows;
            Report.Reap(output, rows, options.Reps);
            break;
        case "store":
            var store = await new StoreBenchmark(env).RunAsync(options.Boxes, options.Parallel);
            json["store"] = store;
            Report.Store(output, store);
            break;
        case "scale":
            var scale = await new ScaleBenchmark(env).RunAsync(options.Boxes, options.Records, Progress);
            json["scale"] = scale;
            Report.Scale(output, scale);
            break;
    }
}

var markdown = $"Machine: {machine.Cpus} cores ({machine.CpuModel}), kernel {machine.Kernel}, cgroups {machine.Cgroups}, {machine.Dotnet}.\n\n{output}";
Console.Write(markdown);
if (options.Json is { } file)
{
    await File.WriteAllTextAsync(file, JsonSerializer.Serialize(json, JsonOptions.Value.Value));
}

if (options.Readme is { } readme)
{
    // The command that reproduces the section: the run's own arguments, less where it wrote its JSON.
    var reproduce = args.Where((a, i) => a != "--json" && (i == 0 || args[i - 1] != "--json"));
    ReadmeSection.Replace(readme, benchmark, markdown, "dotnet run -c Release --project tests/Boxlite.Runtime.Benchmarks -- " + string.Join(' ', reproduce));
}

return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: Boxlite.Runtime.Benchmarks <benchmark> [options] [--json FILE] [--readme README.md]   (run in Release, as root)");
    Console.Error.WriteLine("  peers [--count 100] [--parallel 16] [--boxes 200] [--reap-size 100] [--cli PATH]");
    Console.Error.WriteLine("      boxes beside Process.Start, unshare, bwrap and runc; library, exec, NativeAOT CLI (run --rm, ls), throughput,");
    Console.Error.WriteLine("      a reap against its floor, the phases of a box; every target against its baseline from the same run");
    Console.Error.WriteLine("  reap [--sizes 1,100,1000] [--reps 10]     reap a nested-PID-namespace tree: boxlite (both cgroup reapers) vs floor vs process-kill-tree vs recorded-pid");
    Console.Error.WriteLine("  scale [--boxes 200] [--records 1000]      ListAsync with many running boxes, per-box memory, recovery time");
    Console.Error.WriteLine("  store [--boxes 200] [--parallel 16]       the store writes of a box's lifecycle, on concurrent workers of one process");
    return 2;
}

/// <summary>Command-line options of every benchmark.</summary>
internal sealed record Options(IReadOnlyList<int> Sizes, int Reps, int Count, int Parallel, int Boxes, int Records, int ReapSize, string? Cli, string? Json, string? Readme)
{
    public static Options? Parse(string[] args)
    {
        var o = new Options([1, 100, 1000], 10, 100, 16, 200, 1000, 100, null, null, null);
        for (var i = 0; i + 1 < args.Length + 1 && i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                return null;
            }

            var value = args[i + 1];
            var c = CultureInfo.InvariantCulture;
            o = args[i] switch
            {
                "--sizes" => o with { Sizes = [.. value.Split(',').Select(s => int.Parse(s, c))] },
                "--reps" => o with { Reps = int.Parse(value, c) },
                "--count" => o with { Count = int.Parse(value, c) },
                "--parallel" => o with { Parallel = int.Parse(value, c) },
                "--boxes" => o with { Boxes = int.Parse(value, c) },
                "--records" => o with { Records = int.Parse(value, c) },
                "--reap-size" => o with { ReapSize = int.Parse(value, c) },
                "--cli" => o with { Cli = Path.GetFullPath(value) },
                "--json" => o with { Json = value },
                "--readme" => o with { Readme = value },
                _ => null,
            };
            if (o is null)
            {
                return null;
            }
        }

        return o;
    }
}

/// <summary>JSON settings for the machine-readable report.</summary>
internal static class JsonOptions
{
    public static readonly Lazy<JsonSerializerOptions> Value = new(() => new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
