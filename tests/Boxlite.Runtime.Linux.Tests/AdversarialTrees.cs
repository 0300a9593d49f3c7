namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// The adversarial tree shapes every whole-tree reap must bring to zero, as <c>/bin/sh -c</c> scripts:
/// (script, least number of live processes once built, pids.max the tree needs to stay bounded, or null).
/// </summary>
internal static class AdversarialTrees
{
    /// <summary>The pids limit that bounds the fork storm.</summary>
    public const int StormPidsMax = 200;

    /// <summary>The shapes with the full 500-wide fan (the reaper tests).</summary>
    public static IReadOnlyDictionary<string, (string Script, int Expected, int? PidsMax)> Reaping { get; } = Shapes(500);

    /// <summary>The shapes with a 200-wide fan (the leak audit, which runs each shape 20 times).</summary>
    public static IReadOnlyDictionary<string, (string Script, int Expected, int? PidsMax)> LeakAudit { get; } = Shapes(200);

    private static Dictionary<string, (string Script, int Expected, int? PidsMax)> Shapes(int fanWidth) => new()
    {
        ["double-fork daemons"] = ("for i in 1 2 3 4 5; do (sh -c 'sleep 1000 &' &); done; exec sleep 1000", 6, null),
        ["setsid escapees"] = ("for i in 1 2 3 4 5; do setsid sleep 1000 & done; exec sleep 1000", 6, null),
        ["SIGTERM and SIGINT ignorers"] = ("for i in 1 2 3; do sh -c 'trap \"\" TERM INT HUP; while :; do sleep 1; done' & done; trap '' TERM INT; wait", 7, null),
        ["SIGSTOPped processes"] = ("for i in 1 2 3 4 5; do sleep 1000 & kill -STOP $!; done; exec sleep 1000", 6, null),
        ["zombies never waited for"] = ("sh -c 'for i in 1 2 3 4 5; do true & done; exec sleep 1000' & exec sleep 1000", 2, null),
        ["fork storm bounded by a pids limit"] = ("exec perl -e 'for (1..4) { fork or last } while (1) { my $p = fork; if (defined $p && !$p) { sleep 1000; exit } }'", 150, StormPidsMax),
        ["50-deep chain"] = ("c='if [ \"$1\" -gt 0 ]; then sh -c \"$c\" chain $(($1 - 1)) & fi; exec sleep 1000'; export c; exec sh -c \"$c\" chain 50", 51, null),
        [$"{fanWidth}-wide fan"] = ($"i=0; while [ $i -lt {fanWidth} ]; do sleep 1000 & i=$((i + 1)); done; exec sleep 1000", fanWidth + 1, null),
        // A user that is not root (in its namespace) needs a user namespace of its own to make a PID namespace.
        ["PID namespace in a PID namespace"] = ("u=; [ \"$(id -u)\" = 0 ] || u=--map-root-user; unshare $u --pid --fork --mount-proc sh -c 'unshare --pid --fork --mount-proc sh -c \"sleep 1000 & sleep 1000 & wait\" & sleep 1000' & exec sleep 1000", 6, null),
    };
}
