using Boxlite.Runtime.TestHost;

// One verb per scenario; each prints its result on stdout and exits nonzero on anything unexpected.
return args.Length == 0
    ? Usage()
    : args[0] switch
    {
        "hammer-store" => await StoreHammer.RunAsync(args[1..]),
        _ => Usage(),
    };

static int Usage()
{
    Console.Error.WriteLine("usage: Boxlite.Runtime.CrashHost <verb> [arguments]");
    Console.Error.WriteLine("verbs:");
    Console.Error.WriteLine("  hammer-store <home> <iterations> <seed>   insert, transition and delete boxes in the store of <home>");
    return 2;
}
