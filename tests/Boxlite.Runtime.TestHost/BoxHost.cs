using System.Diagnostics;
using System.Globalization;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.TestHost;

/// <summary>Verbs that run boxes on the real Linux platform from a process the test can kill.</summary>
internal static class BoxHost
{
    /// <summary>
    /// <c>run &lt;home&gt; &lt;cgroup-parent&gt; attached|detached &lt;isolation&gt; &lt;boxes&gt; &lt;command&gt; [args]</c>: starts
    /// that many boxes (each with <c>BOX_INDEX</c> = 1, 2, … in its environment), prints their ids, then waits to be killed.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        await using var runtime = Open(args[0], args[1]);
        var count = int.Parse(args[4], CultureInfo.InvariantCulture);
        for (var index = 1; index <= count; index++)
        {
            var options = Options(args[2] == "detached", args[3], args[5..]);
            var environment = new Dictionary<string, string>(options.Environment) { ["BOX_INDEX"] = index.ToString(CultureInfo.InvariantCulture) };
            var box = await runtime.RunAsync(options with { Environment = environment });
            Console.WriteLine($"id {box.Id}");
        }

        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary><c>stop &lt;home&gt; &lt;cgroup-parent&gt; &lt;box&gt;</c>: stops a box and prints how many processes this call reaped.</summary>
    public static async Task<int> StopAsync(string[] args)
    {
        await using var runtime = Open(args[0], args[1]);
        var box = await runtime.GetAsync(args[2]);

        // A grace of seconds (against a box that ignores the stop signal) keeps the stop under way long enough for a
        // second stopper to meet it even on a loaded machine.
        var report = await Barrier.RunTogetherAsync(() => box.StopAsync(TimeSpan.FromSeconds(2)));
        Console.WriteLine($"killed {report.ProcessesKilled}");
        return 0;
    }

    /// <summary>
    /// <c>exec &lt;home&gt; &lt;isolation&gt; &lt;command&gt; [args]</c>: starts a detached box that waits, execs the command in it,
    /// prints its output lines (<c>out …</c>) and exit code (<c>exit N</c>), then removes the box (force).
    /// </summary>
    public static async Task<int> ExecAsync(string[] args)
    {
        await using var runtime = Open(args[0], cgroupParent: null);
        var box = await runtime.RunAsync(Options(detached: true, args[1], ["/bin/sh", "-c", "echo ready; exec sleep 1000"]));
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (!await box.ReadLogsAsync(cancellationToken: deadline.Token).AnyAsync(l => l.Text == "ready", deadline.Token))
            {
                await Task.Delay(10, deadline.Token);
            }

            var result = await box.ExecAsync(args[2], args[3..], deadline.Token);
            foreach (var line in (result.StandardOutput + result.StandardError).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Console.WriteLine($"out {line}");
            }

            Console.WriteLine($"exit {result.ExitCode}");
        }
        finally
        {
            await runtime.RemoveAsync(box.Id.Value, force: true);
        }

        return 0;
    }

    /// <summary>
    /// <c>crash &lt;home&gt; &lt;cgroup-parent&gt; &lt;point&gt; attached|detached &lt;command&gt; [args]</c>: creates and starts a box,
    /// waits for its command to print "ready", stops and removes it, and SIGKILLs itself at the named step.
    /// </summary>
    public static async Task<int> CrashAsync(string[] args)
    {
        var point = args[2];
        await using var runtime = Open(args[0], args[1]);
        runtime.CrashPoint = p =>
        {
            if (p == point)
            {
                Console.WriteLine($"crash {p}");
                Console.Out.Flush();
                using var self = Process.GetCurrentProcess();
                self.Kill();
            }
        };
        var box = await runtime.CreateAsync(Options(args[3] == "detached", "None", args[4..]));
        Console.WriteLine($"id {box.Id}");
        await box.StartAsync();
        await WaitForReadyAsync(box);
        await box.StopAsync(TimeSpan.FromMilliseconds(200));
        await runtime.RemoveAsync(box.Id.Value);
        Console.WriteLine("completed");
        return 0;
    }

    /// <summary>Waits (bounded) until the box's command says "ready": its tree is up, so what follows ends a running command.</summary>
    private static async Task WaitForReadyAsync(IBox box)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!await box.ReadLogsAsync().AnyAsync(l => l.Text == "ready"))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"box {box.Id} never said ready");
            }

            await Task.Delay(10);
        }
    }

    private static BoxRuntime Open(string home, string? cgroupParent)
    {
        var options = new BoxliteOptions { HomeDirectory = home, RecoverOnStart = false };
        return new BoxliteRuntimeBuilder(options).AddLinux(o => o.CgroupParent = cgroupParent).Build();
    }

    /// <summary>The box of a verb: <c>BOX_MARKER</c> goes into its environment, <c>BOX_PIDS_MAX</c> is its pids limit.</summary>
    private static BoxOptions Options(bool detached, string isolation, string[] command) => new()
    {
        Command = command[0],
        Args = command[1..],
        Detached = detached,
        Isolation = Enum.Parse<BoxIsolation>(isolation),
        Limits = int.TryParse(Environment.GetEnvironmentVariable("BOX_PIDS_MAX"), out var pids) ? new BoxLimits { PidsMax = pids } : BoxLimits.None,
        Environment = Environment.GetEnvironmentVariable("BOX_MARKER") is { } marker
            ? new Dictionary<string, string> { ["BOX_MARKER"] = marker }
            : new Dictionary<string, string>(),
    };
}
