using System.Diagnostics;
using Boxlite.Runtime.Linux.Processes;

namespace Boxlite.Runtime.Linux.Tests.Processes;

/// <summary>Exits noticed through pidfds watched by one shared thread: no handle of a process is ever awaited.</summary>
public sealed class ExitWatcherTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_exit_completes_every_watch_of_the_process()
    {
        Assert.SkipUnless(ProcessSignaller.HasPidfd, "needs pidfd_open (Linux 5.3 or later)");
        using var sleeper = Process.Start("/bin/sleep", "1000");
        var identity = ProcessSignaller.TryGetIdentity(sleeper.Id)!;

        var first = ExitWatcher.Shared.WhenExited(identity);
        var second = ExitWatcher.Shared.WhenExited(identity);
        var beforeTheExit = first.IsCompleted || second.IsCompleted;
        sleeper.Kill();

        beforeTheExit.Should().BeFalse();
        await Task.WhenAll(first, second).WaitAsync(Generous, TestContext.Current.CancellationToken);
        second.Should().BeSameAs(first, "one process has one watch, however many wait on it");
    }

    [Fact]
    public async Task A_process_that_is_already_gone_counts_as_exited_at_once()
    {
        using var quick = Process.Start("/bin/true");
        var identity = ProcessSignaller.TryGetIdentity(quick.Id) ?? new ProcessIdentity(quick.Id, 1, "boot");
        await quick.WaitForExitAsync(TestContext.Current.CancellationToken);

        ExitWatcher.Shared.WhenExited(identity).IsCompleted.Should().BeTrue();
    }

    [Fact]
    public void A_pid_that_names_another_process_now_counts_as_exited()
    {
        var self = ProcessSignaller.TryGetIdentity(Environment.ProcessId)!;

        ExitWatcher.Shared.WhenExited(self with { StartTime = self.StartTime + 1 }).IsCompleted.Should().BeTrue();
    }
}
