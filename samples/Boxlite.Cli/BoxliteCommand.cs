using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Boxlite.Cli;

/// <summary>The <c>boxlite</c> command tree and its handlers.</summary>
internal sealed class BoxliteCommand
{
    /// <summary><c>--home DIR</c>: the Boxlite home (else <c>$BOXLITE_HOME</c>, else <c>~/.boxlite</c>).</summary>
    public static readonly Option<string?> HomeOption = new("--home")
    {
        Description = "The Boxlite home directory (default: $BOXLITE_HOME, else ~/.boxlite)",
        Recursive = true,
    };

    /// <summary><c>--debug</c>: logs and stack traces on stderr.</summary>
    public static readonly Option<bool> DebugOption = new("--debug")
    {
        Description = "Log to stderr and show stack traces of failures",
        Recursive = true,
    };

    /// <summary><c>--cgroup-parent NAME</c>: where box cgroups live (else <c>$BOXLITE_CGROUP_PARENT</c>, else one derived from the home).</summary>
    public static readonly Option<string?> CgroupParentOption = new("--cgroup-parent")
    {
        Description = "The cgroup under which box cgroups are made (default: $BOXLITE_CGROUP_PARENT, else one derived from the home); never share one between homes",
        Recursive = true,
    };

    private static readonly Option<bool> JsonOption = new("--json") { Description = "Print JSON (see README for the schema)" };

    private readonly CancellationToken _interrupted;
    private readonly List<Argument<string[]>> _commandArguments = [];

    public BoxliteCommand(CancellationToken interrupted)
    {
        _interrupted = interrupted;
        Root = new RootCommand("boxlite: run commands in boxes that are torn down completely, every process they ever spawned.")
        {
            Options = { HomeOption, DebugOption, CgroupParentOption },
        };
        foreach (var command in (Command[])[Run(), List(), Inspect(), Stop(), Remove(), Exec(), Logs(), Wait(), Pause(), Resume(), Stats(), Prune(), Doctor()])
        {
            Root.Subcommands.Add(command);
        }

        // Bare "boxlite" shows the help rather than an error.
        Root.SetAction(_ => Root.Parse("--help").Invoke());
    }

    /// <summary>The root command.</summary>
    public RootCommand Root { get; }

    /// <summary>
    /// Parses a command line. Everything from the first word of a box's command on belongs to that command, options
    /// included, as with <c>env</c> or <c>sudo</c>: <c>run printf %s -d</c> prints <c>-d</c> rather than detaching.
    /// A <c>--</c> before the command is accepted as well.
    /// </summary>
    public ParseResult Parse(IReadOnlyList<string> args)
    {
        var configuration = new ParserConfiguration { ResponseFileTokenReplacer = null };
        var parsed = Root.Parse(args, configuration);
        var command = _commandArguments.Select(a => parsed.GetResult(a)).FirstOrDefault(r => r is { Tokens.Count: > 0 });
        if (command is null)
        {
            return parsed;
        }

        var word = command.Tokens[0];
        var position = parsed.Tokens.TakeWhile(t => !ReferenceEquals(t, word)).Count();
        if (parsed.Tokens.Take(position).Any(t => t.Type == TokenType.DoubleDash))
        {
            return parsed;
        }

        if (word.Value.Length > 1 && word.Value.StartsWith('-'))
        {
            throw new CliUsageException($"unknown option '{word.Value}' (put -- before a command whose name starts with -)");
        }

        // The argument that became the command's first word: the shortest prefix of the arguments that yields it.
        int low = 0, high = args.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Root.Parse(args.Take(middle).ToArray(), configuration).Tokens.Count > position)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        var first = low - 1;
        if (first < 0 || args[first] != word.Value)
        {
            throw new CliUsageException($"cannot tell where the command starts; put -- before '{word.Value}'");
        }

        return Root.Parse([.. args.Take(first), "--", .. args.Skip(first)], configuration);
    }

    private static CliContext Context(ParseResult r) =>
        new(r.GetValue(HomeOption), r.GetValue(CgroupParentOption), r.GetValue(DebugOption));

    private async Task<int> WithRuntimeAsync(ParseResult r, Func<IBoxRuntime, Task<int>> body, bool recover = true)
    {
        using var context = Context(r);
        var runtime = await context.OpenRuntimeAsync(recover, _interrupted);
        await using (runtime)
        {
            return await body(runtime);
        }
    }

    private static Argument<string> BoxArgument() => new("BOX") { Description = "A box id, unique id prefix or name" };

    private Argument<string[]> CommandArgument()
    {
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "The command and its arguments: everything from the command's name on is the command's, options included",
            Arity = ArgumentArity.ZeroOrMore,
        };
        _commandArguments.Add(command);
        return command;
    }

    private static void PrintJson<T>(T value, Func<CliJsonContext, JsonTypeInfo<T>> type) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type(CliJsonContext.Readable)));

    private Command Run()
    {
        var detach = new Option<bool>("--detach", "-d") { Description = "Run in the background: print the box id and return; the box outlives this command" };
        var name = new Option<string?>("--name") { Description = "A unique name for the box" };
        var rm = new Option<bool>("--rm") { Description = "Remove the box once it has exited" };
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Give the command this program's stdin (not with --detach)" };
        var env = new Option<string[]>("--env", "-e") { Description = "Set an environment variable: K=V, or K to pass this shell's value" };
        var workdir = new Option<string?>("--workdir", "-w") { Description = "Working directory of the command (default: the box directory)" };
        var memory = new Option<string?>("--memory", "-m") { Description = "Memory limit: a size with b, k, m or g (e.g. 256m)" };
        var cpus = new Option<string?>("--cpus") { Description = "CPU limit in CPUs (e.g. 0.5)" };
        var pids = new Option<string?>("--pids-limit") { Description = "Maximum number of processes and threads" };
        var isolation = new Option<string>("--isolation") { Description = "none, pid (private PID namespace), bwrap (bubblewrap) or seatbelt (macOS)", DefaultValueFactory = _ => "none" };
        var stopSignal = new Option<string?>("--stop-signal") { Description = "Signal a stop sends first (default TERM)" };
        var stopTimeout = new Option<string?>("--stop-timeout") { Description = "Seconds between the stop signal and the reap (default 10)" };
        var command = CommandArgument();
        var run = new Command("run", "Run a command in a new box; in the foreground, stream its output and exit with its code")
        {
            detach, interactive, name, rm, env, workdir, memory, cpus, pids, isolation, stopSignal, stopTimeout, command,
        };
        run.SetAction(r =>
        {
            var argv = r.GetValue(command) ?? [];
            if (argv.Length == 0)
            {
                throw new CliUsageException("run needs a command: boxlite run [OPTIONS] -- COMMAND [ARG...]");
            }

            if (r.GetValue(interactive) && r.GetValue(detach))
            {
                throw new CliUsageException("--interactive needs a foreground run: a detached box cannot read this program's stdin");
            }

            var limits = new BoxLimits
            {
                MemoryBytes = r.GetValue(memory) is { } m ? CliParsing.ParseSize(m, "--memory") : null,
                Cpus = r.GetValue(cpus) is { } c ? CliParsing.ParseCpus(c, "--cpus") : null,
                PidsMax = r.GetValue(pids) is { } p ? CliParsing.ParseCount(p, "--pids-limit") : null,
            };
            var options = new BoxOptions
            {
                Command = argv[0],
                Args = argv[1..],
                Name = r.GetValue(name),
                Environment = CliParsing.ParseEnvironment(r.GetValue(env) ?? [], Environment.GetEnvironmentVariable),
                WorkingDirectory = r.GetValue(workdir) is { } w ? Path.GetFullPath(w) : null,
                Detached = r.GetValue(detach),
                AutoRemove = r.GetValue(rm) && r.GetValue(detach),
                Isolation = CliParsing.ParseIsolation(r.GetValue(isolation) ?? "none"),
                StopSignal = r.GetValue(stopSignal) is { } s ? CliParsing.ParseSignal(s) : "TERM",
                StopTimeout = r.GetValue(stopTimeout) is { } t ? CliParsing.ParseSeconds(t, "--stop-timeout") : null,
                Limits = limits,
            };
            return WithRuntimeAsync(r, runtime => options.Detached
                ? RunDetachedAsync(runtime, options)
                : RunForegroundAsync(runtime, options, r.GetValue(interactive) ? BoxInput.FromStream(Console.OpenStandardInput()) : null, removeAfter: r.GetValue(rm)));
        });
        return run;
    }

    private async Task<int> RunDetachedAsync(IBoxRuntime runtime, BoxOptions options)
    {
        var box = await runtime.RunAsync(options, _interrupted);
        Console.Out.WriteLine(box.Id.Value);
        return ExitCodes.Success;
    }

    /// <summary>
    /// An attached box: its output is followed until it exits, and SIGINT/SIGTERM stop it (the whole tree). Its
    /// removal with <c>--rm</c> is done here, after the logs are drained, rather than by the runtime's auto-remove.
    /// </summary>
    private async Task<int> RunForegroundAsync(IBoxRuntime runtime, BoxOptions options, BoxInput? stdin, bool removeAfter)
    {
        var box = await runtime.CreateAsync(options, _interrupted);
        int code;
        try
        {
            await box.StartAsync(stdin, _interrupted);
            var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var onInterrupt = _interrupted.Register(() => exited.TrySetResult());
            var stopper = StopOnInterruptAsync(box, exited.Task);
            using (var printer = new LinePrinter())
            {
                await foreach (var line in box.ReadLogsAsync(follow: true, CancellationToken.None))
                {
                    printer.Write(line);
                }
            }

            code = await box.WaitAsync(CancellationToken.None);
            exited.TrySetResult();
            await stopper;
        }
        catch when (removeAfter)
        {
            await RemoveQuietlyAsync(runtime, box.Id);
            throw;
        }

        if (removeAfter)
        {
            await runtime.RemoveAsync(box.Id.Value, force: true, CancellationToken.None);
        }

        return code;
    }

    private async Task StopOnInterruptAsync(IBox box, Task trigger)
    {
        await trigger;
        if (_interrupted.IsCancellationRequested)
        {
            await box.StopAsync(cancellationToken: CancellationToken.None);
        }
    }

    private static async Task RemoveQuietlyAsync(IBoxRuntime runtime, BoxId id)
    {
        try
        {
            await runtime.RemoveAsync(id.Value, force: true, CancellationToken.None);
        }
        catch (BoxliteException)
        {
            // The original failure is the one to report.
        }
    }

    private Command List()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show every box, not only live and unknown ones" };
        var ls = new Command("ls", "List boxes (by default only live ones: running, paused, stopping; and unknown ones)") { all, JsonOption };
        ls.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var boxes = (await runtime.ListAsync(_interrupted))
                .Where(b => r.GetValue(all) || b.State.IsLive() || b.State == BoxState.Unknown)
                .ToList();
            if (r.GetValue(JsonOption))
            {
                PrintJson(boxes.Select(BoxJson.From).ToArray(), c => c.BoxJsonArray);
            }
            else
            {
                Say.Table(Console.Out, ["ID", "NAME", "STATE", "EXIT", "PID", "CREATED", "COMMAND"], boxes.Select(b => (IReadOnlyList<string>)
                [
                    b.Id.Value,
                    Say.Printable(b.Name ?? "-"),
                    BoxJson.StateName(b.State),
                    b.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    b.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                    Say.Time(b.CreatedAt),
                    Say.CommandLine(b.Options),
                ]));

                // What an unknown box needs is said below the table, on stderr, so the table stays a table.
                foreach (var box in boxes.Where(b => b.State == BoxState.Unknown))
                {
                    Console.Error.WriteLine($"{box.Id} is unknown: {Say.Printable(box.StatusReason ?? "no reason recorded")}; boxlite rm -f {box.Id} removes it");
                }
            }

            return ExitCodes.Success;
        }, recover: false));
        return ls;
    }

    private Command Inspect()
    {
        var box = BoxArgument();
        var inspect = new Command("inspect", "Show everything about a box") { box, JsonOption };
        inspect.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var info = (await runtime.GetAsync(r.GetValue(box)!, _interrupted)).Info;
            var json = BoxJson.From(info);
            if (r.GetValue(JsonOption))
            {
                PrintJson(json, c => c.BoxJson);
                return ExitCodes.Success;
            }

            var limits = info.Options.Limits;
            (string Key, string Value)[] lines =
            [
                ("id", json.Id),
                ("name", json.Name ?? "-"),
                ("state", json.State + (json.StatusReason is { } why ? $" ({why})" : "")),
                ("exit code", json.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"),
                ("killed by", json.KilledBy ?? "-"),
                ("pid", json.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"),
                ("command", Say.CommandLine(info.Options)),
                ("detached", json.Detached ? "yes" : "no"),
                ("auto remove", json.AutoRemove ? "yes" : "no"),
                ("isolation", json.Isolation),
                ("reaper", json.Reaper ?? "-"),
                ("limits", limits.IsEmpty ? "none" : string.Join(", ", new[]
                {
                    limits.MemoryBytes is { } m ? $"memory {Say.Bytes(m)}" : null,
                    limits.Cpus is { } c ? $"cpus {c.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : null,
                    limits.PidsMax is { } p ? $"pids {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : null,
                }.OfType<string>())),
                ("created", Say.Time(json.CreatedAt)),
                ("started", Say.Time(json.StartedAt)),
                ("finished", Say.Time(json.FinishedAt)),
            ];
            foreach (var (key, value) in lines)
            {
                Console.Out.WriteLine($"{key + ":",-13}{Say.Printable(value)}");
            }

            return ExitCodes.Success;
        }, recover: false));
        return inspect;
    }

    private Command Stop()
    {
        var time = new Option<string?>("--time", "-t") { Description = "Seconds to wait after the stop signal before reaping (default: the box's stop timeout)" };
        var boxes = new Argument<string[]>("BOX") { Description = "Box ids, id prefixes or names", Arity = ArgumentArity.OneOrMore };
        var stop = new Command("stop", "Stop boxes: the stop signal, a grace period, then the whole tree is reaped") { time, boxes };
        stop.SetAction(r =>
        {
            var grace = r.GetValue(time) is { } t ? CliParsing.ParseSeconds(t, "--time") : (TimeSpan?)null;
            return WithRuntimeAsync(r, runtime => ForEachBoxAsync(r, "stopping", r.GetValue(boxes)!, async reference =>
            {
                var box = await runtime.GetAsync(reference, _interrupted);
                if (box.Info.State is BoxState.Created or BoxState.Exited or BoxState.Failed)
                {
                    return $"{box.Id} was not running ({BoxJson.StateName(box.Info.State)})";
                }

                var report = await box.StopAsync(grace, _interrupted);
                return $"{box.Id} stopped: {Say.Reap(report)}";
            }));
        });
        return stop;
    }

    private Command Remove()
    {
        var force = new Option<bool>("--force", "-f") { Description = "Stop (reap) a live box before removing it" };
        var boxes = new Argument<string[]>("BOX") { Description = "Box ids, id prefixes or names", Arity = ArgumentArity.OneOrMore };
        var rm = new Command("rm", "Remove boxes: record, directory and containment") { force, boxes };
        rm.SetAction(r => WithRuntimeAsync(r, runtime => ForEachBoxAsync(r, "removing", r.GetValue(boxes)!, async reference =>
        {
            var id = (await runtime.GetAsync(reference, _interrupted)).Id;
            var report = await runtime.RemoveAsync(id.Value, r.GetValue(force), _interrupted);
            return report is null ? $"{id} removed" : $"{id} removed: {Say.Reap(report)}";
        })));
        return rm;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for every box (a few at a time), then prints each result line in argument order,
    /// or <c>boxlite: message</c> for each failure. The exit code is the worst one.
    /// </summary>
    private static async Task<int> ForEachBoxAsync(ParseResult r, string verb, string[] references, Func<string, Task<string>> action)
    {
        var results = new (string? Line, Exception? Error)[references.Length];
        using (var progress = new Progress(verb, references.Length))
        {
            progress.Start();
            await Parallel.ForEachAsync(
                Enumerable.Range(0, references.Length),
                new ParallelOptions { MaxDegreeOfParallelism = 8 },
                async (i, _) =>
                {
                    try
                    {
                        results[i] = (await action(references[i]), null);
                    }
                    catch (Exception e)
                    {
                        results[i] = (null, e);
                    }

                    progress.Advance();
                });
        }

        var code = ExitCodes.Success;
        var debug = r.GetValue(DebugOption);
        foreach (var (line, error) in results)
        {
            if (error is not null)
            {
                code = Math.Max(code, ExitCodes.Report(error, debug));
            }
            else
            {
                Console.Out.WriteLine(line);
            }
        }

        return code;
    }

    private Command Exec()
    {
        var box = BoxArgument();
        var command = CommandArgument();
        var exec = new Command("exec", "Run a command inside a running box (same containment and namespaces); exit with its code") { box, command };
        exec.SetAction(r =>
        {
            var argv = r.GetValue(command) ?? [];
            if (argv.Length == 0)
            {
                throw new CliUsageException("exec needs a command: boxlite exec BOX -- COMMAND [ARG...]");
            }

            return WithRuntimeAsync(r, async runtime =>
            {
                var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
                var execution = target.ExecStreamAsync(argv[0], argv[1..], cancellationToken: _interrupted);
                using (var printer = new LinePrinter())
                {
                    await foreach (var line in execution)
                    {
                        printer.Write(line);
                    }
                }

                return execution.ExitCode;
            });
        });
        return exec;
    }

    private Command Logs()
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing until the box exits (or Ctrl-C)" };
        var box = BoxArgument();
        var logs = new Command("logs", "Print a box's output (stdout to stdout, stderr to stderr)") { follow, box };
        logs.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
            using var printer = new LinePrinter();
            try
            {
                await foreach (var line in target.ReadLogsAsync(r.GetValue(follow), _interrupted))
                {
                    printer.Write(line);
                }
            }
            catch (OperationCanceledException) when (_interrupted.IsCancellationRequested)
            {
                // Ctrl-C is how a follow ends.
            }

            return ExitCodes.Success;
        }, recover: false));
        return logs;
    }

    private Command Wait()
    {
        var box = BoxArgument();
        var wait = new Command("wait", "Wait for a box to exit; print its exit code and exit with it") { box };
        wait.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
            var code = await target.WaitAsync(_interrupted);
            Console.Out.WriteLine(code.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return code;
        }));
        return wait;
    }

    private Command Pause()
    {
        var box = BoxArgument();
        var pause = new Command("pause", "Freeze every process of a running box") { box };
        pause.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
            await target.PauseAsync(_interrupted);
            Console.Out.WriteLine($"{target.Id} paused");
            return ExitCodes.Success;
        }));
        return pause;
    }

    private Command Resume()
    {
        var box = BoxArgument();
        var resume = new Command("resume", "Thaw a paused box") { box };
        resume.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
            await target.ResumeAsync(_interrupted);
            Console.Out.WriteLine($"{target.Id} resumed");
            return ExitCodes.Success;
        }));
        return resume;
    }

    private Command Stats()
    {
        var box = BoxArgument();
        var stats = new Command("stats", "Resource use of a running box (the whole tree, from its cgroup)") { box, JsonOption };
        stats.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var target = await runtime.GetAsync(r.GetValue(box)!, _interrupted);
            var m = await target.GetMetricsAsync(_interrupted);
            var json = new StatsJson(target.Id.Value, m.CpuTime?.TotalSeconds, m.MemoryCurrentBytes, m.MemoryPeakBytes, m.ProcessCount);
            if (r.GetValue(JsonOption))
            {
                PrintJson(json, c => c.StatsJson);
            }
            else
            {
                Say.Table(Console.Out, ["ID", "CPU", "MEMORY", "PEAK", "PROCESSES"],
                [
                    [
                        json.Id,
                        json.CpuSeconds is { } cpu ? $"{cpu.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)} s" : "-",
                        Say.Bytes(json.MemoryBytes),
                        Say.Bytes(json.MemoryPeakBytes),
                        json.Processes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ],
                ]);
            }

            return ExitCodes.Success;
        }, recover: false));
        return stats;
    }

    private Command Prune()
    {
        var prune = new Command("prune", "Remove every exited or failed box, and the home's containment left empty");
        prune.SetAction(r => WithRuntimeAsync(r, async runtime =>
        {
            var pruned = await runtime.PruneAsync(cancellationToken: _interrupted);
            foreach (var id in pruned.Removed)
            {
                Console.Out.WriteLine(id.Value);
            }

            await Console.Error.WriteLineAsync($"pruned {pruned.Removed.Count} {(pruned.Removed.Count == 1 ? "box" : "boxes")}");
            return ExitCodes.Success;
        }));
        return prune;
    }

    private static Command Doctor()
    {
        var doctor = new Command("doctor", "What this host can and cannot do for boxes, with the fix for each missing piece") { JsonOption };
        doctor.SetAction(r =>
        {
            using var context = Context(r);
            var diagnosis = context.Diagnose();
            var checks = diagnosis.Checks;
            var guarantee = JsonNamingPolicy.CamelCase.ConvertName(diagnosis.Guarantee.ToString());
            var origin = diagnosis.IsCustomReaper ? "custom" : "built-in";
            if (r.GetValue(JsonOption))
            {
                PrintJson(
                    new DoctorJson(diagnosis.Platform, context.HomeDirectory, diagnosis.Reaper, guarantee, diagnosis.IsCustomReaper, checks.Select(CheckJson.From).ToArray()),
                    c => c.DoctorJson);
                return ExitCodes.Success;
            }

            Console.Out.WriteLine($"platform: {diagnosis.Platform}");
            Console.Out.WriteLine($"home:     {context.HomeDirectory}");
            Console.Out.WriteLine($"reaper:   {diagnosis.Reaper} (guarantee: {guarantee}, {origin})");
            Console.Out.WriteLine();
            var width = checks.Max(c => c.Name.Length);
            foreach (var check in checks)
            {
                Console.Out.WriteLine($"{(check.Ok ? "ok  " : "MISS")}  {check.Name.PadRight(width)}  {check.Detail}");
                if (!check.Ok && check.Fix is { } fix)
                {
                    Console.Out.WriteLine($"      {new string(' ', width)}  fix: {fix}");
                }
            }

            return ExitCodes.Success;
        });
        return doctor;
    }
}
