using Boxlite.Runtime.MacOS.Reaping;
using Boxlite.Runtime.MacOS.Tests.Support;

namespace Boxlite.Runtime.MacOS.Tests;

/// <summary>The group sweep against a fake process table: who gets signalled, and when it stops.</summary>
public sealed class GroupSweepPlanningTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);
    private readonly FakeProcessTable _table = new();

    private ProcessGroupSweeper Sweeper => new(_table, TimeProvider.System);

    [Fact]
    public async Task A_group_whose_leader_is_alive_is_killed_until_no_member_is_left()
    {
        _table.Add(100, parent: 1, group: 100);
        _table.Add(101, parent: 100, group: 100);
        _table.Add(102, parent: 101, group: 100);

        var sweep = await Sweeper.SweepAsync(_table.IdentityOf(100), Generous, CancellationToken.None);

        sweep.Survivors.Should().BeEmpty();
        sweep.Killed.Should().Be(3);
        _table.Signals.Should().Contain((-100, SignalNumbers.Kill));
        Sweeper.LiveMembers(100).Should().BeEmpty();
    }

    [Fact]
    public async Task A_killed_leader_that_stays_unreaped_keeps_the_sweep_going_until_the_group_is_empty()
    {
        _table.Add(100, parent: Environment.ProcessId, group: 100);
        _table.Add(101, parent: 100, group: 100);
        var rounds = 0;
        _table.AfterGroupKill = group =>
        {
            // A member forks during the first kill: the child lands in the group after the signal went out.
            if (rounds++ == 0)
            {
                _table.Add(103, parent: 101, group: group);
            }
        };

        var sweep = await Sweeper.SweepAsync(_table.IdentityOf(100), Generous, CancellationToken.None);

        sweep.Survivors.Should().BeEmpty();
        _table.Signals.Count(s => s == (-100, SignalNumbers.Kill)).Should().BeGreaterThanOrEqualTo(2);
        _table.Get(100)!.IsZombie.Should().BeTrue("collecting the leader is its parent's duty, never the sweep's");
    }

    [Fact]
    public async Task A_group_whose_leader_is_gone_is_not_signalled_and_its_members_are_reported()
    {
        var leader = _table.Add(100, parent: 1, group: 100);
        _table.Add(101, parent: 1, group: 100);
        var identity = _table.IdentityOf(100);
        _table.Remove(leader.Pid);

        var sweep = await Sweeper.SweepAsync(identity, Generous, CancellationToken.None);

        _table.Signals.Should().BeEmpty();
        sweep.Survivors.Select(s => s.Pid).Should().Equal(101);
        sweep.Problem.Should().Contain("not signalled");
    }

    [Fact]
    public async Task A_group_number_taken_by_a_recycled_pid_is_not_signalled()
    {
        _table.Add(100, parent: 1, group: 100, startedAt: FakeProcessTable.Now.AddHours(1), name: "stranger");
        _table.Add(101, parent: 100, group: 100);
        var recorded = new ProcessIdentity(100, FakeProcessTable.Now.ToUnixTimeMilliseconds() * 1000, _table.BootId);

        var sweep = await Sweeper.SweepAsync(recorded, Generous, CancellationToken.None);

        _table.Signals.Should().BeEmpty();
        sweep.Survivors.Should().NotBeEmpty();
    }

    [Fact]
    public async Task A_member_that_will_not_die_is_reported_at_the_deadline_with_its_state()
    {
        _table.Add(100, parent: 1, group: 100);
        _table.Add(101, parent: 100, group: 100, state: 'D', name: "stuck");
        _table.Unkillable.Add(101);

        var sweep = await Sweeper.SweepAsync(_table.IdentityOf(100), TimeSpan.FromMilliseconds(50), CancellationToken.None);

        sweep.Survivors.Should().ContainSingle().Which.Should().Be(new BoxProcessInfo(101, "stuck", 'D'));
        sweep.Problem.Should().Contain("deadline");
    }

    [Fact]
    public async Task An_empty_group_is_not_signalled_at_all()
    {
        _table.Add(100, parent: 1, group: 50);

        var sweep = await Sweeper.SweepAsync(_table.IdentityOf(100), Generous, CancellationToken.None);

        sweep.Should().Be(new GroupSweep(0, [], null));
        _table.Signals.Should().BeEmpty();
    }

    [Fact]
    public void A_single_pid_is_signalled_only_when_its_start_time_matches()
    {
        _table.Add(200, parent: 1, group: 200);
        var stale = _table.IdentityOf(200) with { StartTime = _table.IdentityOf(200).StartTime - 1 };

        Sweeper.TrySignal(stale, SignalNumbers.Kill).Should().BeFalse();
        Sweeper.TrySignal(_table.IdentityOf(200) with { BootId = "boot-0" }, SignalNumbers.Kill).Should().BeFalse();
        _table.Signals.Should().BeEmpty();

        Sweeper.TrySignal(_table.IdentityOf(200), SignalNumbers.Kill).Should().BeTrue();
        _table.Signals.Should().Equal((200, SignalNumbers.Kill));
    }
}
