using Boxlite.Runtime.Linux.Reaping;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>Adversarial trees, each reaped to zero by every whole-tree cgroup reaper.</summary>
public sealed class ReaperTests : IDisposable
{
    private readonly CgroupSandbox _sandbox = new();

    public static TheoryData<string, string> Trees()
    {
        var data = new TheoryData<string, string>();
        foreach (var reaper in new[] { CgroupKillReaper.MethodName, CgroupFreezeKillReaper.MethodName })
        {
            foreach (var tree in AdversarialTrees.All.Keys)
            {
                data.Add(reaper, tree);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Trees))]
    public async Task Every_adversarial_tree_is_reaped_to_zero_and_its_cgroup_removed(string reaper, string tree)
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var (script, expected, pids) = AdversarialTrees.All[tree];
        var platform = _sandbox.Platform(reaper);
        var box = _sandbox.NewBox(limits: pids is null ? null : new BoxLimits { PidsMax = pids });
        var plan = await platform.PrepareAsync(box, CancellationToken.None);
        box = _sandbox.LaunchTree(box, plan, script);
        await _sandbox.WaitForTreeAsync(box, expected);

        var report = await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(20), CancellationToken.None);

        report.Method.Should().Be(reaper);
        report.ProcessesKilled.Should().BeGreaterThanOrEqualTo(expected);
        report.ContainmentRemoved.Should().BeTrue();
        Directory.Exists(_sandbox.Layout.BoxDirectory(box.Id)).Should().BeFalse();
        (await _sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(2))).Should().BeEmpty();
    }

    [Fact]
    public async Task Reaping_a_box_that_never_started_or_is_already_gone_reports_nothing()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        var platform = _sandbox.Platform();
        var never = _sandbox.NewBox();

        var report = await platform.Reaper.ReapAsync(never, TimeSpan.FromSeconds(5), CancellationToken.None);

        report.ProcessesKilled.Should().Be(0);
        var box = _sandbox.NewBox();
        var plan = await platform.PrepareAsync(box, CancellationToken.None);
        box = _sandbox.LaunchTree(box, plan, "exec sleep 1000");
        await _sandbox.WaitForTreeAsync(box, 1);
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(5), CancellationToken.None)).ProcessesKilled.Should().Be(1);
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(5), CancellationToken.None)).Should()
            .Be(ReapReport.Nothing(CgroupKillReaper.MethodName, ReapGuarantee.WholeTree));
    }

    public void Dispose() => _sandbox.Dispose();
}

/// <summary>Tree scripts: (script, least number of live processes once built, pids.max for the box or null).</summary>
internal static class AdversarialTrees
{
    public static readonly Dictionary<string, (string Script, int Expected, int? PidsMax)> All = new()
    {
        ["double-fork daemons"] = ("for i in 1 2 3 4 5; do (sh -c 'sleep 1000 &' &); done; exec sleep 1000", 6, null),
        ["setsid escapees"] = ("for i in 1 2 3 4 5; do setsid sleep 1000 & done; exec sleep 1000", 6, null),
        ["signal ignorers"] = ("for i in 1 2 3; do sh -c 'trap \"\" TERM INT HUP; while :; do sleep 1; done' & done; trap '' TERM INT; wait", 7, null),
        ["stopped processes"] = ("for i in 1 2 3 4 5; do sleep 1000 & kill -STOP $!; done; exec sleep 1000", 6, null),
        ["unreaped zombies"] = ("sh -c 'for i in 1 2 3 4 5; do true & done; exec sleep 1000' & exec sleep 1000", 2, null),
        ["fork storm"] = ("exec perl -e 'for (1..4) { fork or last } while (1) { my $p = fork; if (defined $p && !$p) { sleep 1000; exit } }'", 150, 200),
        ["50-deep chain"] = ("cat > \"$BOXDIR/chain.sh\" <<'X'\nif [ \"$1\" -gt 0 ]; then sh \"$BOXDIR/chain.sh\" $(($1 - 1)) & fi\nexec sleep 1000\nX\nexec sh \"$BOXDIR/chain.sh\" 50", 51, null),
        ["500-wide fan"] = ("i=0; while [ $i -lt 500 ]; do sleep 1000 & i=$((i + 1)); done; exec sleep 1000", 501, null),
        ["nested pid namespaces"] = ("unshare --pid --fork --mount-proc sh -c 'unshare --pid --fork --mount-proc sh -c \"sleep 1000 & sleep 1000 & wait\" & sleep 1000' & exec sleep 1000", 6, null),
    };
}
