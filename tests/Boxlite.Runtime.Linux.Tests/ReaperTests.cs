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
            foreach (var tree in AdversarialTrees.Reaping.Keys)
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
        var (script, expected, pids) = AdversarialTrees.Reaping[tree];
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

    [Fact]
    public async Task A_process_stuck_in_uninterruptible_sleep_is_reported_as_a_survivor_and_the_rest_is_killed()
    {
        Assert.SkipUnless(CgroupSandbox.Available, CgroupSandbox.SkipReason);
        Assert.SkipUnless(FrozenFileSystem.CanMake, FrozenFileSystem.SkipReason);
        using var frozen = FrozenFileSystem.Make(_sandbox.TempDirectory);
        var platform = _sandbox.Platform(CgroupFreezeKillReaper.MethodName);
        var box = _sandbox.NewBox();
        var plan = await platform.PrepareAsync(box, CancellationToken.None);

        // A write to a frozen filesystem waits in D state: it cannot be frozen by the cgroup, nor killed, until thawed.
        box = _sandbox.LaunchTree(box, plan, $"sleep 1000 & echo x > '{frozen.Directory}/f' & wait");
        await _sandbox.WaitForTreeAsync(box, 3);
        var act = () => platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(3), CancellationToken.None).AsTask();

        var survivors = (await act.Should().ThrowAsync<ReapTimeoutException>()).Which.Survivors;

        survivors.Should().ContainSingle().Which.State.Should().Be('D');
        frozen.Thaw();
        (await platform.Reaper.ReapAsync(box, TimeSpan.FromSeconds(20), CancellationToken.None)).ContainmentRemoved.Should().BeTrue();
        (await _sandbox.MarkedSurvivorsAfterAsync(TimeSpan.FromSeconds(2))).Should().BeEmpty();
    }

    public void Dispose() => _sandbox.Dispose();
}
