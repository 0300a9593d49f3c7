using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Boxlite.Runtime.Benchmarks;

// reap | lifecycle | scale, each with its options; a markdown table on stdout, --json FILE for machines.
if (args.Length == 0 || args[0] is not ("reap" or "lifecycle" or "scale"))
{
    return Usage();
}

var options = Options.Parse(args[1..]);
if (options is null)
{
    return Usage();
}

var machine = Machine.Describe();
var output = new StringBuilder();
var json = new Dictionary<string, object> { ["machine"] = machine };
void Progress(string line) => Console.Error.WriteLine(line);

await using (var env = new BenchEnvironment())
{
    switch (args[0])
    {
        case "reap":
            var rows = await new ReapBenchmark(env).RunAsync(options.Sizes, options.Reps, Progress);
            json["reap"] = rows;
            Report.Reap(output, rows, options.Reps);
            break;
        case "lifecycle":
            var lifecycle = await new LifecycleBenchmark(env).RunAsync(options.Count, options.Parallel, Progress);
            json["lifecycle"] = lifecycle;
            Report.Lifecycle(output, lifecycle);
            break;
        case "scale":
            var scale = await new ScaleBenchmark(env).RunAsync(options.Boxes, options.Records, Progress);
            json["scale"] = scale;
            Report.Scale(output, scale);
            break;
    }
}

Console.WriteLine($"Machine: {machine.Cpus} cores ({machine.CpuModel}), kernel {machine.Kernel}, cgroups {machine.Cgroups}, .NET {machine.Dotnet}");
Console.WriteLine();
Console.Write(output);
if (options.Json is { } file)
{
    await File.WriteAllTextAsync(file, JsonSerializer.Serialize(json, JsonOptions.Value.Value));
}

return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: Boxlite.Runtime.Benchmarks <benchmark> [options] [--json FILE]   (run in Release, as root)");
    Console.Error.WriteLine("  reap [--sizes 1,100,1000] [--reps 10]     reap a nested-PID-namespace tree: boxlite vs floor vs process-kill-tree vs recorded-pid");
    Console.Error.WriteLine("  lifecycle [--count 200] [--parallel 8]    create+start+exit+remove of /bin/true vs Process.Start + WaitForExit");
    Console.Error.WriteLine("  scale [--boxes 200] [--records 1000]      ListAsync with many running boxes, per-box memory, recovery time");
    return 2;
}

/// <summary>Command-line options of every benchmark.</summary>
internal sealed record Options(IReadOnlyList<int> Sizes, int Reps, int Count, int Parallel, int Boxes, int Records, string? Json)
{
    public static Options? Parse(string[] args)
    {
        var o = new Options([1, 100, 1000], 10, 200, 8, 200, 1000, null);
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
                "--json" => o with { Json = value },
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
