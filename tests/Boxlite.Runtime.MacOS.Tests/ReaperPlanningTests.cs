using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;

namespace Boxlite.Runtime.MacOS.Tests;

/// <summary>The process-group reaper against a fake process table and real registration files.</summary>
public sealed class ReaperPlanningTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private readonly FakeProcessTable _table = new();
    private readonly TestBox _box = new();

    private ProcessGroupReaper Reaper
    {
        get
        {
            var sweeper = new ProcessGroupSweeper(_table, TimeProvider.System);
            return new ProcessGroupReaper(sweeper, new GroupKeepers(_table), TimeProvider.System);
        }
    }

    /// <summary>A keeper (pid 100, outside its group) with a command and a grandchild in group 100.</summary>
    private void KeeperWithTree(int keeper = 100)
    {
        _table.Add(keeper, parent: 10, group: 10, startedAt: FakeProcessTable.Now.AddMilliseconds(-20), name: "perl");
        _table.Add(keeper + 1, parent: keeper, group: keeper);
        _table.Add(keeper + 2, parent: keeper + 1, group: keeper);
        _table.KeepersThatExit.Add(keeper);
    }

    [Fact]
    public void The_reaper_declares_the_process_group_guarantee()
    {
        Reaper.Guarantee.Should().Be(ReapGuarantee.ProcessGroup);
        Reaper.Name.Should().Be("process-group");
    }

    [Fact]
    public async Task A_proven_keeper_has_its_group_swept_and_the_registration_removed()
    {
        KeeperWithTree();
        _box.Register(100);

        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        report.ProcessesKilled.Should().Be(2);
        report.Guarantee.Should().Be(ReapGuarantee.ProcessGroup);
        report.ContainmentRemoved.Should().BeTrue();
        _table.Signals.Should().AllBeEquivalentTo((-100, SignalNumbers.Kill));
        Directory.Exists(GroupKeepers.DirectoryOf(_box.Context)).Should().BeFalse();
    }

    [Fact]
    public async Task A_keeper_that_does_not_leave_after_its_group_is_empty_is_killed_identity_checked()
    {
        KeeperWithTree();
        _table.KeepersThatExit.Clear();
        _box.Register(100);

        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        report.ProcessesKilled.Should().Be(3);
        _table.Signals.Should().EndWith((100, SignalNumbers.Kill));
    }

    [Fact]
    public async Task A_recycled_keeper_pid_is_neither_signalled_nor_mistaken_for_the_box()
    {
        // The registration is an hour older than the process now holding its pid, which leads a group of its own.
        _table.Add(100, parent: 1, group: 100, startedAt: FakeProcessTable.Now.AddHours(1), name: "stranger");
        _table.Add(101, parent: 100, group: 100, startedAt: FakeProcessTable.Now.AddHours(1));
        _box.Register(100);

        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        _table.Signals.Should().BeEmpty();
        report.ProcessesKilled.Should().Be(0);
        _table.Get(100).Should().NotBeNull();
    }

    [Fact]
    public async Task Members_left_by_a_killed_keeper_are_reported_and_not_signalled()
    {
        _table.Add(101, parent: 1, group: 100, startedAt: FakeProcessTable.Now.AddSeconds(1));
        _box.Register(100);

        var reap = async () => await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        (await reap.Should().ThrowAsync<ReapTimeoutException>()).Which.Survivors.Select(s => s.Pid).Should().Equal(101);
        _table.Signals.Should().BeEmpty();
    }

    [Fact]
    public async Task A_member_that_survives_the_deadline_makes_the_reap_fail_naming_it()
    {
        KeeperWithTree();
        _table.Add(150, parent: 101, group: 100, state: 'D', name: "stuck");
        _table.Unkillable.Add(150);
        _box.Register(100);

        var reap = async () => await Reaper.ReapAsync(_box.Context, TimeSpan.FromMilliseconds(50), CancellationToken.None);

        var failure = (await reap.Should().ThrowAsync<ReapTimeoutException>()).Which;
        failure.Survivors.Should().ContainSingle().Which.Pid.Should().Be(150);
        failure.Message.Should().Contain("150 (stuck, state D)");
    }

    [Fact]
    public async Task A_command_run_without_a_group_is_killed_alone_and_the_report_says_so()
    {
        _table.Add(100, parent: 10, group: 10, startedAt: FakeProcessTable.Now.AddMilliseconds(-20));
        _box.Register(100, group: false);

        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        report.Guarantee.Should().Be(ReapGuarantee.SingleProcess);
        _table.Signals.Should().Equal((100, SignalNumbers.Kill));
    }

    [Fact]
    public async Task Exec_keepers_are_swept_with_the_box()
    {
        KeeperWithTree(100);
        KeeperWithTree(200);
        _box.Register(100);
        _box.Register(200, name: "exec-1.pid");

        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        report.ProcessesKilled.Should().Be(4);
        _table.Signals.Should().Contain((-100, SignalNumbers.Kill)).And.Contain((-200, SignalNumbers.Kill));
    }

    [Fact]
    public async Task A_box_that_never_started_reaps_to_nothing()
    {
        var report = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        report.ProcessesKilled.Should().Be(0);
        report.ContainmentRemoved.Should().BeTrue();
        _table.Signals.Should().BeEmpty();
    }

    [Fact]
    public async Task Reaping_twice_is_harmless()
    {
        KeeperWithTree();
        _box.Register(100);
        await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);
        _table.Signals.Clear();

        var again = await Reaper.ReapAsync(_box.Context, Generous, CancellationToken.None);

        again.ProcessesKilled.Should().Be(0);
        _table.Signals.Should().BeEmpty();
    }

    [Fact]
    public void A_keeper_is_proven_by_being_the_child_of_the_live_monitor_even_if_clocks_disagree()
    {
        _table.Add(10, parent: 1, group: 10, name: "sh");
        _table.Add(100, parent: 10, group: 10, startedAt: FakeProcessTable.Now.AddHours(1));
        _box.Register(100);
        var registration = GroupKeepers.Registrations(_box.Context).Single();
        var keepers = new GroupKeepers(_table);

        keepers.Prove(registration, monitor: null).Should().BeNull();
        keepers.Prove(registration, _table.IdentityOf(10)).Should().Be(_table.IdentityOf(100));
        keepers.Prove(registration, _table.IdentityOf(10) with { StartTime = 1 }).Should().BeNull("a recycled monitor pid proves nothing");
    }

    public void Dispose() => _box.Dispose();
}
