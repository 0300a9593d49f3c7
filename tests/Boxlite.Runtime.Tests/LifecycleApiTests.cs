using Boxlite.Runtime.Tests.Fakes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Boxlite.Runtime.Tests;

/// <summary>The lifecycle as a caller uses it: waits with a time limit, one-call runs, filters, exec streams, prune.</summary>
public sealed class LifecycleApiTests
{
    private static CancellationToken Deadline => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wait_whose_time_is_up_throws_a_timeout_and_leaves_the_box_running()
    {
        var clock = new FakeTimeProvider();
        await using var f = new RuntimeFixture(time: clock);
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var wait = box.WaitAsync(TimeSpan.FromSeconds(30), Deadline);
        clock.Advance(TimeSpan.FromSeconds(30));

        await wait.Awaiting(w => w).Should().ThrowAsync<TimeoutException>();
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Running);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_box_running()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        using var cancel = new CancellationTokenSource();

        var wait = box.WaitAsync(cancel.Token);
        await cancel.CancelAsync();

        await wait.Awaiting(w => w).Should().ThrowAsync<OperationCanceledException>();
        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Running);
    }

    [Fact]
    public async Task A_box_is_found_and_removed_by_its_id()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 0"), Deadline);
        await box.WaitAsync(Deadline);

        (await f.Runtime.GetAsync(box.Id, Deadline)).Info.State.Should().Be(BoxState.Exited);
        await f.Runtime.RemoveAsync(box.Id, cancellationToken: Deadline);

        await f.Runtime.Invoking(r => r.GetAsync(box.Id, Deadline)).Should().ThrowAsync<BoxNotFoundException>();
    }

    [Fact]
    public async Task Listing_keeps_the_boxes_every_condition_of_the_filter_matches()
    {
        await using var f = new RuntimeFixture();
        var web = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100") with { Name = "web-1", Labels = new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" } }, Deadline);
        var done = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 0") with { Name = "web-2", Labels = new Dictionary<string, string> { ["app"] = "web" } }, Deadline);
        await done.WaitAsync(Deadline);
        await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100") with { Name = "db-1", Labels = new Dictionary<string, string> { ["app"] = "db" } }, Deadline);

        async Task<IEnumerable<BoxId>> Ids(BoxFilter filter) => (await f.Runtime.ListAsync(filter, Deadline)).Select(b => b.Id);

        (await Ids(new BoxFilter { NamePrefix = "web-" })).Should().Equal(web.Id, done.Id);
        (await Ids(new BoxFilter { Labels = ["app=web", "tier"] })).Should().Equal(web.Id);
        (await Ids(new BoxFilter { Labels = ["app=web"], States = [BoxState.Exited] })).Should().Equal(done.Id);
        (await Ids(new BoxFilter { Labels = ["app=cache"] })).Should().BeEmpty();
        await f.Runtime.Invoking(r => r.ListAsync(new BoxFilter { Labels = ["=web"] }, Deadline)).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Run_to_completion_returns_the_exit_code_and_output_and_removes_the_box()
    {
        await using var f = new RuntimeFixture();

        var result = await f.Runtime.RunToCompletionAsync(RuntimeFixture.Sh("echo out; echo err >&2; exit 4"), cancellationToken: Deadline);

        result.ExitCode.Should().Be(4);
        result.StandardOutput.Should().Be("out\n");
        result.StandardError.Should().Be("err\n");
        result.TimedOut.Should().BeFalse();
        result.Reap.Should().NotBeNull();
        (await f.Store.GetAsync(result.Id, Deadline)).Should().BeNull();
        Directory.Exists(f.DirectoryOf(result.Id)).Should().BeFalse();
    }

    [Fact]
    public async Task Run_to_completion_past_its_timeout_stops_the_box_and_says_it_timed_out()
    {
        var clock = new FakeTimeProvider();
        await using var f = new RuntimeFixture(time: clock);

        var run = f.Runtime.RunToCompletionAsync(RuntimeFixture.Sh("trap '' TERM; echo started; while :; do sleep 0.05; done"), timeout: TimeSpan.FromMinutes(1), cancellationToken: Deadline);
        var box = await WaitForOneBoxAsync(f);

        // Once it says so, the command ignores the stop signal; only the reap ends it.
        await BoxWaits.ForLogLineAsync(await f.Runtime.GetAsync(box, Deadline), "started");

        // The runtime's clock runs only when told: first past the timeout, then past the stop's grace period.
        while (!run.IsCompleted)
        {
            clock.Advance(TimeSpan.FromSeconds(30));
            await Task.WhenAny(run, Task.Delay(20, Deadline));
        }

        var result = await run;
        result.TimedOut.Should().BeTrue();
        result.ExitCode.Should().Be(128 + 9);
        result.Reap.ProcessesKilled.Should().BeGreaterThan(0);
        (await f.Store.GetAsync(result.Id, Deadline)).Should().BeNull();
    }

    [Fact]
    public async Task A_cancelled_run_to_completion_reaps_and_removes_its_box()
    {
        await using var f = new RuntimeFixture();
        using var cancel = new CancellationTokenSource();

        var run = f.Runtime.RunToCompletionAsync(RuntimeFixture.Sh("echo started; sleep 100"), cancellationToken: cancel.Token);
        var box = await WaitForOneBoxAsync(f);
        await BoxWaits.ForLogLineAsync(await f.Runtime.GetAsync(box, Deadline), "started");
        await cancel.CancelAsync();

        await run.Awaiting(r => r).Should().ThrowAsync<OperationCanceledException>();
        (await f.Store.ListAsync(Deadline)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_box_command_given_stdin_where_the_platform_cannot_give_one_is_refused_in_words_and_no_box_is_left()
    {
        await using var f = new RuntimeFixture();

        var run = f.Runtime.RunToCompletionAsync(RuntimeFixture.Sh("cat"), BoxInput.FromText("one\n"), cancellationToken: Deadline);

        (await run.Awaiting(r => r).Should().ThrowAsync<PlatformCapabilityException>()).Which.Message.Should().Contain("stdin");
        (await f.Store.ListAsync(Deadline)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_started_box_whose_stdin_is_refused_is_failed()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.CreateAsync(RuntimeFixture.Sh("cat"), Deadline);

        await box.Awaiting(b => b.StartAsync(BoxInput.FromText("one\n"), Deadline)).Should().ThrowAsync<PlatformCapabilityException>();

        (await box.RefreshAsync(Deadline)).State.Should().Be(BoxState.Failed);
    }

    [Fact]
    public async Task Exec_streams_its_lines_as_they_come_and_then_its_exit_code()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var exec = box.ExecStreamAsync("/bin/sh", ["-c", "echo one; echo two >&2; exit 3"], cancellationToken: Deadline);
        var lines = await exec.ToListAsync(Deadline);

        lines.Should().BeEquivalentTo([new BoxLogLine(BoxLogSource.StandardOutput, "one"), new BoxLogLine(BoxLogSource.StandardError, "two")]);
        exec.ExitCode.Should().Be(3);
    }

    [Fact]
    public async Task An_exec_enumeration_ended_early_leaves_nothing_reading_the_output_it_did_not_take()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        var printed = Path.Combine(f.DirectoryOf(box.Id), "work", "printed");
        var exec = box.ExecStreamAsync("/bin/sh", ["-c", "seq 1 6000; touch printed; exec sleep 100"], cancellationToken: Deadline);

        await using (var lines = exec.GetAsyncEnumerator(Deadline))
        {
            (await lines.MoveNextAsync()).Should().BeTrue();

            // Far more lines wait, in the pipe and the reader's buffer, than the buffer holds.
            var until = DateTime.UtcNow.AddSeconds(60);
            while (!File.Exists(printed) && DateTime.UtcNow < until)
            {
                await Task.Delay(10, Deadline);
            }

            File.Exists(printed).Should().BeTrue("the command prints all its lines without waiting for them to be read");
        }

        var ended = await Task.WhenAny(exec.Pumping, Task.Delay(TimeSpan.FromSeconds(60), Deadline));
        ended.Should().BeSameAs(exec.Pumping, "the reading of the output stops with the enumeration");
    }

    [Fact]
    public async Task Exec_reads_the_input_it_is_given()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);

        var result = await box.ExecAsync("/bin/cat", [], BoxInput.FromText("first\nsecond\n"), Deadline);

        result.Should().Be(new BoxExecResult(0, "first\nsecond\n", ""));
    }

    [Fact]
    public async Task A_box_being_started_is_in_the_starting_state()
    {
        await using var f = new RuntimeFixture();
        var box = await f.Runtime.CreateAsync(RuntimeFixture.Sh("exit 0"), Deadline);
        BoxState? during = null;
        f.Runtime.CrashPoint = point =>
        {
            if (point == "start:after-prepare")
            {
                during = f.Store.GetAsync(box.Id).GetAwaiter().GetResult()!.State;
            }
        };

        await box.StartAsync(Deadline);

        during.Should().Be(BoxState.Starting);
    }

    [Fact]
    public async Task Prune_removes_the_finished_boxes_the_filter_keeps_and_nothing_live()
    {
        await using var f = new RuntimeFixture();
        var live = await f.Runtime.RunAsync(RuntimeFixture.Sh("sleep 100"), Deadline);
        var mine = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 0") with { Labels = new Dictionary<string, string> { ["owner"] = "me" } }, Deadline);
        var other = await f.Runtime.RunAsync(RuntimeFixture.Sh("exit 1"), Deadline);
        await mine.WaitAsync(Deadline);
        await other.WaitAsync(Deadline);

        var labelled = await f.Runtime.PruneAsync(new BoxFilter { Labels = ["owner=me"] }, Deadline);
        var rest = await f.Runtime.PruneAsync(cancellationToken: Deadline);

        labelled.Removed.Should().Equal(mine.Id);
        rest.Removed.Should().Equal(other.Id);
        (await f.Store.ListAsync(Deadline)).Select(b => b.Id).Should().Equal(live.Id);
    }

    [Fact]
    public async Task The_life_of_a_box_that_exits_cleanly_is_logged_at_debug_only_and_reaps_nothing()
    {
        var logs = new FakeLogCollector();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        await using var f = new RuntimeFixture();
        await using var runtime = new BoxRuntime(f.Options, f.Store, f.Platform, loggerFactory: loggers);
        logs.Clear();

        var box = await runtime.RunAsync(RuntimeFixture.Sh("exit 0"), Deadline);
        await box.WaitAsync(Deadline);
        await runtime.RemoveAsync(box.Id, cancellationToken: Deadline);

        var records = logs.GetSnapshot();
        records.Should().NotBeEmpty();
        records.Should().OnlyContain(r => r.Level == LogLevel.Debug);
        records.Should().NotContain(r => r.Message.Contains("reaped", StringComparison.Ordinal));
    }

    private static async Task<BoxId> WaitForOneBoxAsync(RuntimeFixture f)
    {
        while (true)
        {
            if ((await f.Store.ListAsync(Deadline)) is [{ State: BoxState.Running } box])
            {
                return box.Id;
            }

            await Task.Delay(10, Deadline);
        }
    }
}
