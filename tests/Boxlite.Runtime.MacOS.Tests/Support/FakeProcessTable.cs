using Boxlite.Runtime.MacOS.Reaping;

namespace Boxlite.Runtime.MacOS.Tests.Support;

/// <summary>A process table in memory that records every signal; SIGKILL removes what it hits (unless unkillable).</summary>
internal sealed class FakeProcessTable : IProcessTable
{
    private readonly Dictionary<int, ProcessEntry> _processes = [];

    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public string BootId => "boot-1";

    /// <summary>Every kill: (pid or -group, signal).</summary>
    public List<(int Target, int Signal)> Signals { get; } = [];

    /// <summary>Pids that SIGKILL does not remove (uninterruptible sleep).</summary>
    public HashSet<int> Unkillable { get; } = [];

    /// <summary>Keepers that exit by themselves once their group has no live member.</summary>
    public HashSet<int> KeepersThatExit { get; } = [];

    /// <summary>Called after each group kill, e.g. to simulate a fork that raced with it.</summary>
    public Action<int>? AfterGroupKill { get; set; }

    public ProcessEntry Add(int pid, int parent, int group, DateTimeOffset? startedAt = null, char state = 'S', string name = "sleep")
    {
        var started = startedAt ?? Now;
        var entry = new ProcessEntry(pid, parent, group, started.ToUnixTimeMilliseconds() * 1000, started, name, state);
        _processes[pid] = entry;
        return entry;
    }

    public void Remove(int pid) => _processes.Remove(pid);

    public void MakeZombie(int pid) => _processes[pid] = _processes[pid] with { State = 'Z' };

    public ProcessIdentity IdentityOf(int pid) => new(pid, _processes[pid].StartTime, BootId);

    public ProcessEntry? Get(int pid) => _processes.GetValueOrDefault(pid);

    public IReadOnlyList<int> ListGroup(int groupId) => [.. _processes.Values.Where(e => e.GroupId == groupId).Select(e => e.Pid)];

    public IReadOnlyList<int> ListChildren(int pid) => [.. _processes.Values.Where(e => e.ParentPid == pid).Select(e => e.Pid)];

    public int Signal(int pid, int signal)
    {
        Signals.Add((pid, signal));
        if (!_processes.ContainsKey(pid))
        {
            return 3;
        }

        if (signal == SignalNumbers.Kill && !Unkillable.Contains(pid))
        {
            _processes.Remove(pid);
        }

        return 0;
    }

    public int SignalGroup(int groupId, int signal)
    {
        Signals.Add((-groupId, signal));
        var members = _processes.Values.Where(e => e.GroupId == groupId && !e.IsZombie).ToList();
        if (members.Count == 0)
        {
            return 3;
        }

        if (signal == SignalNumbers.Kill)
        {
            foreach (var member in members.Where(m => !Unkillable.Contains(m.Pid)))
            {
                // A killed leader stays as a zombie (its parent has not collected it); others are reaped by init.
                if (member.Pid == groupId)
                {
                    MakeZombie(member.Pid);
                }
                else
                {
                    _processes.Remove(member.Pid);
                }
            }
        }

        AfterGroupKill?.Invoke(groupId);
        foreach (var keeper in KeepersThatExit.Where(k => !_processes.Values.Any(e => e.GroupId == k && !e.IsZombie)).ToList())
        {
            _processes.Remove(keeper);
        }

        return 0;
    }
}
