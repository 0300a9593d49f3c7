using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Linux.Tests;

public sealed class ProcFsTests
{
    [Fact]
    public void Stat_fields_are_read_after_the_last_parenthesis_of_a_hostile_name()
    {
        const string stat = "42 (a) b) (c d) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100";

        var parsed = ProcFs.ParseStat(42, stat);

        parsed.Should().Be(new ProcStat(42, 'S', 7, 42, 987654));
    }

    [Fact]
    public void The_identity_of_this_process_is_alive_and_a_different_start_time_is_not()
    {
        var me = ProcessSignaller.TryGetIdentity(Environment.ProcessId)!;

        ProcessSignaller.IsAlive(me).Should().BeTrue();
        ProcessSignaller.IsAlive(me with { StartTime = me.StartTime + 1 }).Should().BeFalse();
        ProcessSignaller.IsAlive(me with { BootId = "another-boot" }).Should().BeFalse();
    }

    [Fact]
    public void NSpid_lists_every_namespace_level()
    {
        ProcFs.ParseNamespacePids("Name:\tsh\nNSpid:\t5523\t7\t1\nNSpgid:\t1\n").Should().Equal(5523, 7, 1);
    }

    [Fact]
    public async Task The_children_of_a_live_process_are_found_and_a_stale_identity_has_none()
    {
        using var parent = System.Diagnostics.Process.Start("/bin/sh", ["-c", "sleep 100 & sleep 100 & wait"]);
        var identity = ProcessSignaller.TryGetIdentity(parent.Id)!;
        try
        {
            // Until both children have exec'd sleep (a fresh fork still shows its parent's name).
            var found = new List<ProcessIdentity>();
            for (var i = 0; i < 500 && !(found.Count == 2 && found.All(c => ProcFs.ReadName(c.Pid) == "sleep")); i++)
            {
                await Task.Delay(10, TestContext.Current.CancellationToken);
                found = BoxProcesses.ChildrenOf(identity);
            }

            found.Select(c => ProcFs.ReadName(c.Pid)).Should().Equal("sleep", "sleep");
            BoxProcesses.ChildrenOf(identity with { StartTime = identity.StartTime + 1 }).Should().BeEmpty();
        }
        finally
        {
            foreach (var child in ProcFs.ReadChildren(parent.Id))
            {
                _ = Libc.kill(child, LinuxSignals.Kill);
            }

            parent.Kill();
            await parent.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    [Theory]
    [InlineData("TERM", 15)]
    [InlineData("sigint", 2)]
    [InlineData("KILL", 9)]
    [InlineData("USR1", 10)]
    [InlineData("STOP", 19)]
    public void Signal_names_map_to_linux_numbers(string name, int number) => LinuxSignals.Parse(name).Should().Be(number);
}
