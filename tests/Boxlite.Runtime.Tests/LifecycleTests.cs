using System.Diagnostics.Metrics;
using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Boxlite.Runtime.Tests;

public sealed class LifecycleTests
{
    private static CancellationToken Deadline => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_box_runs_its_command_and_records_the_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("echo hello; echo oops >&2; exit 7"), Deadline);

        (await box.WaitAsync(Deadline)).Should().Be(7);
        var info = await box.RefreshAsync(Deadline);
        info.State.Should().Be(BoxState.Exited);
        info.ExitCode.Should().Be(7);
        info.KilledBy.Should().BeNull();
        var lines = await box.ReadLogsAsync(cancellationToken: Deadline).ToListAsync(Deadline);
        lines.Should().ContainInOrder(new BoxLogLine(BoxLogSource.StandardOutput, "hello"), new BoxLogLine(BoxLogSource.StandardError, "oops"));
    }

    [Fact]
    public async Task Invalid_options_create_nothing_and_list_every_problem()
    {
        await using var f = new RuntimeFixture();
        var act = () => f.Runtime.CreateAsync(new BoxOptions { Command = "", Name = "a/b", StopSignal = "NOPE", Limits = new BoxLimits { PidsMax = 0 } }, Deadline);

        (await act.Should().ThrowAsync<InvalidBoxOptionsException>()).Which.Problems.Should().HaveCount(4);
        (await f.Store.ListAsync(Deadline)).Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(f.Home, "boxes")).Should().BeEmpty();
    }

    [Fact]
    public async Task A_capability_the_platform_lacks_creates_nothing()
    {
        await using var f = new RuntimeFixture();
        var refusal = new PlatformCapabilityException("no bwrap", "apt-get install bubblewrap");
        f.Platform.Refusal = refusal;

        var act = () => f.Runtime.CreateAsync(RuntimeFixture.Sh("true"), Deadline);

        (await act.Should().ThrowAsync<PlatformCapabilityException>()).Which.Should().BeSameAs(refusal);
        (await f.Store.ListAsync(Deadline)).Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(f.Home, "boxes")).Should().BeEmpty();
        f.Platform.Prepared.Should().BeEmpty();
    }

    [Fact]
    public async Task A_duplicate_name_is_a_typed_conflict()
    {
        await using var f = new RuntimeFixture();
        await f.Runtime.CreateAsync(RuntimeFixture.Sh("true") with { Name = "web" }, Deadline);

        var act = () => f.Runtime.CreateAsync(RuntimeFixture.Sh("true") with { Name = "web" }, Deadline);

        await act.Should().ThrowAsync<BoxNameConflictException>();
        (await f.Store.ListAsync(Deadline)).Should().ContainSingle();
    }

    [Fact]
    public async Task Boxes_are_found_by_id_unique_prefix_and_name()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.CreateAsync(RuntimeFixture.Sh("true") with { Name = "api" }, Deadline);

        (await f.Runtime.GetAsync(box.Id.Value, Deadline)).Id.Should().Be(box.Id);
        (await f.Runtime.GetAsync(box.Id.Value[..5], Deadline)).Id.Should().Be(box.Id);
        (await f.Runtime.GetAsync("api", Deadline)).Id.Should().Be(box.Id);
        await f.Runtime.Invoking(r => r.GetAsync("../../etc", Deadline)).Should().ThrowAsync<BoxNotFoundException>();
        await f.Runtime.Invoking(r => r.GetAsync("nosuchbox", Deadline)).Should().ThrowAsync<BoxNotFoundException>();
    }

    [Fact]
    public async Task An_ambiguous_prefix_is_refused()
    {
        await using var f = new RuntimeFixture();
        var boxes = new List<IBox>();
        for (var i = 0; i < 40; i++)
        {
            boxes.Add(await f.Runtime.CreateAsync(RuntimeFixture.Sh("true"), Deadline));
        }

        // 40 ids over 36 first letters: at least two share one.
        var shared = boxes.GroupBy(b => b.Id.Value[0]).First(g => g.Count() > 1).Key.ToString();
        await f.Runtime.Invoking(r => r.GetAsync(shared, Deadline)).Should().ThrowAsync<AmbiguousBoxReferenceException>();
    }

    [Fact]
    public async Task Stop_delivers_the_stop_signal_to_the_command_and_records_its_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done"), Deadline);
        await BoxWaits.ForLogLineAsync(box, "ready");

        await box.StopAsync(TimeSpan.FromSeconds(10), Deadline);

        var info = await box.RefreshAsync(Deadline);
        info.State.Should().Be(BoxState.Exited);
        info.ExitCode.Should().Be(3);
        info.KilledBy.Should().BeNull();
        (await box.ReadLogsAsync(cancellationToken: Deadline).ToListAsync(Deadline)).Select(l => l.Text).Should().Contain("got-term");
    }

    [Fact]
    public async Task A_command_that_ignores_the_stop_signal_is_reaped_after_the_grace_period()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"), Deadline);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var report = await box.StopAsync(TimeSpan.FromMilliseconds(300), Deadline);

        report.ProcessesKilled.Should().BeGreaterThan(0);
        var info = await box.RefreshAsync(Deadline);
        info.State.Should().Be(BoxState.Exited);
        info.KilledBy.Should().Be("KILL");
        info.ExitCode.Should().Be(137);
        Posix.GroupMembers(info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task Stop_is_idempotent()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        await box.StopAsync(TimeSpan.FromSeconds(5), Deadline);
        var again = await box.StopAsync(TimeSpan.FromSeconds(5), Deadline);

        again.ProcessesKilled.Should().Be(0);
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Exited);
    }

    [Fact]
    public async Task Concurrent_stops_do_the_work_once_and_all_see_the_result()
    {
        var clock = new FakeTimeProvider();
        await using var f = new RuntimeFixture(time: clock);
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"), Deadline);
        await BoxWaits.ForLogLineAsync(box, "ready");
        var handles = new List<IBox>();
        for (var i = 0; i < 8; i++)
        {
            handles.Add(await f.Runtime.GetAsync(box.Id.Value, Deadline));
        }

        // Every stop is asked for at once; the grace period runs on the runtime's clock, which moves only when told.
        var stops = Task.WhenAll(handles.Select(h => h.StopAsync(TimeSpan.FromSeconds(10), Deadline)));
        while (!stops.IsCompleted)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            await Task.WhenAny(stops, Task.Delay(20, Deadline));
        }

        var reports = await stops;
        var final = await box.RefreshAsync(Deadline);

        reports.Should().OnlyContain(r => ReferenceEquals(r, reports[0]), "one stop did the work and every caller got its report");
        reports[0].ProcessesKilled.Should().BeGreaterThan(0, $"the command ignores the stop signal, so its tree lives until the reap (final record: {final})");
        final.State.Should().Be(BoxState.Exited);
    }

    [Fact]
    public async Task Removing_a_running_box_needs_force()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        await f.Runtime.Invoking(r => r.RemoveAsync(box.Id.Value, force: false, Deadline)).Should().ThrowAsync<InvalidBoxStateException>();
        var report = await f.Runtime.RemoveAsync(box.Id.Value, force: true, Deadline);

        report!.ProcessesKilled.Should().BeGreaterThan(0);
        (await f.Store.GetAsync(box.Id, Deadline)).Should().BeNull();
        Directory.Exists(f.DirectoryOf(box.Id)).Should().BeFalse();
        Posix.GroupMembers(box.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task Every_reap_of_a_force_remove_is_counted_and_timed()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var reaps = new MetricCollector<long>(meters, BoxliteDiagnostics.SourceName, BoxliteDiagnostics.ReapsCounter);
        using var durations = new MetricCollector<double>(meters, BoxliteDiagnostics.SourceName, BoxliteDiagnostics.ReapDurationHistogram);
        using var killed = new MetricCollector<long>(meters, BoxliteDiagnostics.SourceName, BoxliteDiagnostics.ProcessesKilledCounter);
        await using var f = new RuntimeFixture();
        await using var runtime = new BoxRuntime(f.Options, f.Store, f.Platform, metrics: BoxliteMetrics.From(meters));
        var box = await runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var report = await runtime.RemoveAsync(box.Id, force: true, Deadline);

        f.Platform.Reaps.Should().BeGreaterThan(1, "the stop reaps the box, then the removal its leftover containment");
        reaps.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(f.Platform.Reaps);
        durations.GetMeasurementSnapshot().Should().HaveCount(f.Platform.Reaps);
        killed.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(report!.ProcessesKilled);
    }

    [Fact]
    public async Task An_auto_remove_box_is_gone_after_it_exits_and_its_wait_returns_the_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 5") with { AutoRemove = true }, Deadline);

        (await box.WaitAsync(Deadline)).Should().Be(5);

        (await f.Store.GetAsync(box.Id, Deadline)).Should().BeNull();
        Directory.Exists(f.DirectoryOf(box.Id)).Should().BeFalse();
        await box.Invoking(b => b.RefreshAsync(Deadline)).Should().ThrowAsync<BoxNotFoundException>();
    }

    [Fact]
    public async Task A_failed_reap_reports_the_live_survivors_never_claims_exited_and_a_later_stop_finishes()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("trap '' TERM; sleep 1000 & echo ready; wait"), Deadline);

        // Once it says so, the command ignores the stop signal: a stop signal before would end the box before the reap.
        await BoxWaits.ForLogLineAsync(box, "ready");
        f.Platform.Behaviour = FakeReaperBehaviour.Survivors;

        var act = () => box.StopAsync(TimeSpan.FromMilliseconds(100), Deadline);

        var survivors = (await act.Should().ThrowAsync<ReapTimeoutException>()).Which.Survivors;
        var monitor = box.Info.Monitor!.Pid;
        survivors.Should().Contain(s => s.Pid == monitor && s.Name == "sh");
        survivors.Select(s => s.Pid).Should().BeSubsetOf(Posix.GroupMembers(monitor), "every survivor named is a live process of the box");
        var kept = await f.Store.GetAsync(box.Id, Deadline);
        kept!.State.Should().Be(BoxState.Unknown);
        kept.StatusReason.Should().Contain(monitor.ToString(System.Globalization.CultureInfo.InvariantCulture));

        f.Platform.Behaviour = FakeReaperBehaviour.Normal;
        await box.StopAsync(TimeSpan.FromMilliseconds(100), Deadline);

        (await f.Store.GetAsync(box.Id, Deadline))!.State.Should().Be(BoxState.Exited);
        Posix.GroupMembers(monitor).Should().BeEmpty();
    }

    [Fact]
    public async Task Exec_runs_a_command_and_returns_its_output_and_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var result = await box.ExecAsync("/bin/sh", ["-c", "echo out; echo err >&2; exit 5"], Deadline);

        result.Should().Be(new BoxExecResult(5, "out\n", "err\n"));
    }

    [Fact]
    public async Task Exec_into_a_box_that_is_not_running_is_a_state_error()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 0"), Deadline);
        await box.WaitAsync(Deadline);

        var act = () => box.ExecAsync("/bin/true", [], Deadline);

        await act.Should().ThrowAsync<InvalidBoxStateException>();
    }

    [Fact]
    public async Task The_log_cap_holds_against_a_box_writing_as_fast_as_it_can()
    {
        await using var f = new RuntimeFixture(o => o.MaxLogBytes = 64 * 1024);
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("yes boxlite | head -c 20000000"), Deadline);

        (await box.WaitAsync(Deadline)).Should().Be(0);

        var logged = (await box.ReadLogsAsync(cancellationToken: Deadline).ToListAsync(Deadline)).Sum(l => l.Text.Length + 1);
        logged.Should().BeInRange(32 * 1024, 64 * 1024, "the output fills the cap but for the frames' headers");
    }

    [Fact]
    public async Task Following_logs_streams_lines_until_the_box_exits()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("for i in 1 2 3; do echo line$i; sleep 0.1; done"), Deadline);

        var lines = await box.ReadLogsAsync(follow: true, Deadline).Select(l => l.Text).ToListAsync(Deadline);

        lines.Should().Equal("line1", "line2", "line3");
    }

    [Fact]
    public async Task Pause_and_resume_move_the_state_and_stop_works_on_a_paused_box()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        await box.PauseAsync(Deadline);
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Paused);
        await box.ResumeAsync(Deadline);
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Running);
        await box.PauseAsync(Deadline);
        await box.StopAsync(TimeSpan.FromSeconds(5), Deadline);

        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Exited);
    }

    [Fact]
    public async Task A_pause_whose_record_cannot_be_written_leaves_the_box_running_as_recorded()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        f.Store.FailWrites = record => record.State == BoxState.Paused;

        await box.Invoking(b => b.PauseAsync(Deadline)).Should().ThrowAsync<BoxStoreException>();

        (await f.Store.GetAsync(box.Id, Deadline))!.State.Should().Be(BoxState.Running);
        f.Platform.IsFrozen(box.Id).Should().BeFalse();
    }

    [Fact]
    public async Task A_pause_whose_freeze_fails_leaves_the_box_thawed_and_running_as_recorded()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        f.Platform.FreezeFailure = new TimeoutException("the box did not report frozen");

        await box.Invoking(b => b.PauseAsync(Deadline)).Should().ThrowAsync<TimeoutException>();

        (await f.Store.GetAsync(box.Id, Deadline))!.State.Should().Be(BoxState.Running);
        f.Platform.IsFrozen(box.Id).Should().BeFalse();
    }

    [Fact]
    public async Task A_resume_whose_record_cannot_be_written_leaves_the_box_paused_as_recorded()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        await box.PauseAsync(Deadline);
        f.Store.FailWrites = record => record.State == BoxState.Running;

        await box.Invoking(b => b.ResumeAsync(Deadline)).Should().ThrowAsync<BoxStoreException>();

        (await f.Store.GetAsync(box.Id, Deadline))!.State.Should().Be(BoxState.Paused);
        f.Platform.IsFrozen(box.Id).Should().BeTrue();
    }

    [Fact]
    public async Task Starting_twice_is_a_state_error()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        await box.Invoking(b => b.StartAsync(Deadline)).Should().ThrowAsync<InvalidBoxStateException>();
    }

    [Fact]
    public async Task Disposing_the_runtime_stops_its_attached_boxes_and_leaves_detached_ones()
    {
        var f = new RuntimeFixture();
        var attached = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100", detached: false), Deadline);
        var detached = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100", detached: true), Deadline);

        await f.Runtime.DisposeAsync();

        (await f.Store.GetAsync(attached.Id, Deadline))!.State.Should().Be(BoxState.Exited);
        Posix.GroupMembers(attached.Info.Monitor!.Pid).Should().BeEmpty();
        (await f.Store.GetAsync(detached.Id, Deadline))!.State.Should().Be(BoxState.Running);
        f.Platform.IsAlive(detached.Info.Monitor!).Should().BeTrue();

        await using var cleanup = new RuntimeFixture(o => o.HomeDirectory = f.Home);
        cleanup.Store.Put((await f.Store.GetAsync(detached.Id, Deadline))!);
        await cleanup.Runtime.RemoveAsync(detached.Id.Value, force: true, Deadline);
        Posix.GroupMembers(detached.Info.Monitor!.Pid).Should().BeEmpty();
    }

    [Fact]
    public async Task An_exit_nobody_watched_is_noticed_by_the_next_look()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 4"), Deadline);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        BoxInfo info;
        do
        {
            info = (await f.Runtime.ListAsync(Deadline)).Single();
            await Task.Delay(20, Deadline);
        }
        while (info.State == BoxState.Running && DateTime.UtcNow < deadline);

        info.State.Should().Be(BoxState.Exited);
        info.ExitCode.Should().Be(4);
    }
}
