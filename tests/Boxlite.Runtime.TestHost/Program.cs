using Boxlite.Runtime.TestHost;

// One verb per scenario; each prints its result on stdout and exits nonzero on anything unexpected.
return args.Length == 0
    ? Usage()
    : args[0] switch
    {
        "hammer-store" => await StoreHammer.RunAsync(args[1..]),
        "run" => await BoxHost.RunAsync(args[1..]),
        "stop" => await BoxHost.StopAsync(args[1..]),
        "crash" => await BoxHost.CrashAsync(args[1..]),
        "exec" => await BoxHost.ExecAsync(args[1..]),
        _ => Usage(),
    };

static int Usage()
{
    Console.Error.WriteLine("usage: Boxlite.Runtime.CrashHost <verb> [arguments]");
    Console.Error.WriteLine("verbs:");
    Console.Error.WriteLine("  hammer-store <home> <iterations> <seed>   (after the barrier) insert, transition and delete boxes in the store of <home>");
    Console.Error.WriteLine("  run <home> <cgroup-parent> attached|detached <isolation> <boxes> <command> [args]   start <boxes> boxes, print their ids, wait to be killed");
    Console.Error.WriteLine("  stop <home> <cgroup-parent> <box>   (after the barrier) stop a box, print how many processes this call reaped");
    Console.Error.WriteLine("  crash <home> <cgroup-parent> <point> attached|detached <command> [args]   run a box (which prints \"ready\") through its lifecycle, SIGKILL self at <point>");
    Console.Error.WriteLine("  exec <home> <isolation> <command> [args]   exec a command in a new detached box, print its output, remove the box");
    Console.Error.WriteLine("The barrier: print \"ready\", then wait for a line on stdin, so that several hosts start their work together.");
    return 2;
}
