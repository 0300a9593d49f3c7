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
    Console.Error.WriteLine("  hammer-store <home> <iterations> <seed>   insert, transition and delete boxes in the store of <home>");
    Console.Error.WriteLine("  run <home> <cgroup-parent> attached|detached <isolation> <command> [args]   start a box, print its id, wait to be killed");
    Console.Error.WriteLine("  stop <home> <cgroup-parent> <box>   stop a box, print how many processes this call reaped");
    Console.Error.WriteLine("  crash <home> <cgroup-parent> <point> <command> [args]   run a box through its lifecycle, SIGKILL self at <point>");
    Console.Error.WriteLine("  exec <home> <isolation> <command> [args]   exec a command in a new detached box, print its output, remove the box");
    return 2;
}
