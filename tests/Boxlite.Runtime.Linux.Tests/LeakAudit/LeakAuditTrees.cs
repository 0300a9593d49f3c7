namespace Boxlite.Runtime.Linux.Tests.LeakAudit;

/// <summary>
/// The adversarial tree shapes of the leak audit, as box commands (<c>/bin/sh -c</c>, run in the box directory):
/// (script, least number of live processes once built, whether the tree needs a pids limit to stay bounded).
/// </summary>
internal static class LeakAuditTrees
{
    /// <summary>The pids limit that bounds the fork storm.</summary>
    public const int StormPidsMax = 200;

    /// <summary>Width of the fan (500 in the reaping tests; 200 here to keep the audit's 180 runs short).</summary>
    public const int FanWidth = 200;

    public static readonly IReadOnlyDictionary<string, (string Script, int Expected, bool Storm)> All = new Dictionary<string, (string, int, bool)>
    {
        ["double-fork daemons"] = ("for i in 1 2 3 4 5; do (sh -c 'sleep 1000 &' &); done; exec sleep 1000", 6, false),
        ["setsid escapees"] = ("for i in 1 2 3 4 5; do setsid sleep 1000 & done; exec sleep 1000", 6, false),
        ["SIGTERM and SIGINT ignorers"] = ("for i in 1 2 3; do sh -c 'trap \"\" TERM INT HUP; while :; do sleep 1; done' & done; trap '' TERM INT; wait", 7, false),
        ["SIGSTOPped processes"] = ("for i in 1 2 3 4 5; do sleep 1000 & kill -STOP $!; done; exec sleep 1000", 6, false),
        ["zombies never waited for"] = ("sh -c 'for i in 1 2 3 4 5; do true & done; exec sleep 1000' & exec sleep 1000", 2, false),
        ["fork storm bounded by a pids limit"] = ("exec perl -e 'for (1..4) { fork or last } while (1) { my $p = fork; if (defined $p && !$p) { sleep 1000; exit } }'", 150, true),
        ["50-deep chain"] = ("c='if [ \"$1\" -gt 0 ]; then sh -c \"$c\" chain $(($1 - 1)) & fi; exec sleep 1000'; export c; exec sh -c \"$c\" chain 50", 51, false),
        [$"{FanWidth}-wide fan"] = ($"i=0; while [ $i -lt {FanWidth} ]; do sleep 1000 & i=$((i + 1)); done; exec sleep 1000", FanWidth + 1, false),
        ["PID namespace in a PID namespace"] = ("unshare --pid --fork --mount-proc sh -c 'unshare --pid --fork --mount-proc sh -c \"sleep 1000 & sleep 1000 & wait\" & sleep 1000' & exec sleep 1000", 6, false),
    };
}
