using Boxlite.Runtime.Tests.Fakes;

namespace Boxlite.Runtime.Tests;

public sealed class RecoveryTests
{
    private static CancellationToken Deadline => TestContext.Current.CancellationToken;

    private static readonly ProcessIdentity DeadProcess = FakePlatform.GoneProcess();

    [Fact]
    public async Task A_live_detached_box_stays_running()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.StillRunning.Should().Be(1);
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Running);
    }

    [Fact]
    public async Task An_exit_recorded_while_no_runtime_ran_becomes_exited_with_its_code()
    {
        await using var f = new RuntimeFixture();
        var info = Stage(f, BoxState.Running) with { Monitor = DeadProcess };
        f.Store.Put(info);
        Directory.CreateDirectory(f.DirectoryOf(info.Id));
        await File.WriteAllTextAsync(Path.Combine(f.DirectoryOf(info.Id), "exit"), "9\n\n", Deadline);

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.MarkedExited.Should().Be(1);
        var after = await f.Store.GetAsync(info.Id, Deadline);
        after!.State.Should().Be(BoxState.Exited);
        after.ExitCode.Should().Be(9);
    }

    [Fact]
    public async Task A_dead_monitor_without_an_exit_status_is_unknown_with_a_reason_never_running()
    {
        await using var f = new RuntimeFixture();
        var info = Stage(f, BoxState.Running) with { Monitor = DeadProcess };
        f.Store.Put(info);

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.MarkedUnknown.Should().Be(1);
        var after = await f.Store.GetAsync(info.Id, Deadline);
        after!.State.Should().Be(BoxState.Unknown);
        after.StatusReason.Should().Contain("monitor died");
    }

    [Fact]
    public async Task A_monitor_from_a_previous_boot_is_not_taken_for_alive_and_its_pid_is_never_signalled()
    {
        await using var f = new RuntimeFixture();
        using var bystander = FakePlatform.StartContained(Path.Combine(f.Home, "bystander"), "exec sleep 1000");
        try
        {
            var info = Stage(f, BoxState.Running) with { Monitor = FakePlatform.IdentityOf(bystander.Id)! with { BootId = "another-boot" } };
            f.Store.Put(info);

            await f.Runtime.RecoverAsync(Deadline);

            (await f.Store.GetAsync(info.Id, Deadline))!.State.Should().NotBe(BoxState.Running);
            bystander.HasExited.Should().BeFalse("the pid of a monitor from another boot belongs to someone else now");
        }
        finally
        {
            bystander.Kill();
        }
    }

    [Fact]
    public async Task An_attached_box_whose_owner_died_is_reaped()
    {
        await using var f = new RuntimeFixture();
        f.Platform.CurrentProcess = DeadProcess;
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100", detached: false), Deadline);
        f.Platform.CurrentProcess = FakePlatform.IdentityOf(Environment.ProcessId)!;

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.ReapedOrphans.Should().Be(1);
        var after = await f.Store.GetAsync(box.Id, Deadline);
        after!.State.Should().Be(BoxState.Exited);
        after.KilledBy.Should().Be("KILL");
        Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task A_stop_whose_stopper_died_is_finished()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("trap '' TERM; while :; do sleep 0.05; done"), Deadline);
        var running = await f.Store.GetAsync(box.Id, Deadline);
        f.Store.Put(running! with { State = BoxState.Stopping, Holder = DeadProcess });

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.Should().Be(new RecoveryReport { FinishedStops = 1 });
        (await f.Store.GetAsync(box.Id, Deadline))!.State.Should().Be(BoxState.Exited);
        Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task A_half_started_box_is_cleaned_and_failed()
    {
        await using var f = new RuntimeFixture();
        var info = Stage(f, BoxState.Starting) with { Holder = DeadProcess };
        f.Store.Put(info);
        using var monitor = FakePlatform.StartContained(f.DirectoryOf(info.Id), "read go");

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.CleanedHalfCreated.Should().Be(1);
        (await f.Store.GetAsync(info.Id, Deadline))!.State.Should().Be(BoxState.Failed);
        await monitor.WaitForExitAsync(Deadline).WaitAsync(TimeSpan.FromSeconds(30), Deadline);
        monitor.ExitCode.Should().Be(128 + Posix.SIGKILL, "the half-started monitor is killed, not left to wait for its start");
        File.Exists(FakePlatform.GroupFile(f.DirectoryOf(info.Id))).Should().BeFalse();
    }

    [Fact]
    public async Task Containment_and_directories_without_a_record_are_removed()
    {
        await using var f = new RuntimeFixture();
        var ghost = BoxId.New();
        using var stray = FakePlatform.StartContained(f.DirectoryOf(ghost), "sleep 1000 & exec sleep 1000");
        var straggler = BoxId.New();
        Directory.CreateDirectory(f.DirectoryOf(straggler));

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.ReapedUnrecorded.Should().Be(1);
        await stray.WaitForExitAsync(Deadline).WaitAsync(TimeSpan.FromSeconds(30), Deadline);
        Posix.GroupMembers(stray.Id).Should().BeEmpty();
        Directory.Exists(f.DirectoryOf(ghost)).Should().BeFalse();
        Directory.Exists(f.DirectoryOf(straggler)).Should().BeFalse();
    }

    [Fact]
    public async Task An_exited_auto_remove_box_is_removed()
    {
        await using var f = new RuntimeFixture();
        var info = Stage(f, BoxState.Exited) with { Options = new BoxOptions { Command = "true", AutoRemove = true }, ExitCode = 0 };
        f.Store.Put(info);
        Directory.CreateDirectory(f.DirectoryOf(info.Id));

        var report = await f.Runtime.RecoverAsync(Deadline);

        report.AutoRemoved.Should().Be(1);
        (await f.Store.GetAsync(info.Id, Deadline)).Should().BeNull();
        Directory.Exists(f.DirectoryOf(info.Id)).Should().BeFalse();
    }

    private static BoxInfo Stage(RuntimeFixture f, BoxState state) => new()
    {
        Id = BoxId.New(),
        State = state,
        Options = new BoxOptions { Command = "true", Detached = true },
        CreatedAt = DateTimeOffset.UtcNow,
        Version = 1,
    };
}
