using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Tests.State;

public sealed class SqliteBoxStoreTests : IDisposable
{
    private readonly StoreHome _home = new();
    private readonly SqliteBoxStore _store;

    public SqliteBoxStoreTests() => _store = _home.Open();

    public void Dispose()
    {
        _store.Dispose();
        _home.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_field_of_a_record_survives_insert_and_get()
    {
        var box = FullBox();

        await _store.InsertAsync(box, Ct);

        var stored = await _store.GetAsync(box.Id, Ct);
        stored.Should().BeEquivalentTo(box with { Version = 1 }, o => o.IncludingInternalProperties());
        stored!.Options.Environment.Should().Equal(box.Options.Environment);
        stored.Options.Labels.Should().Equal(box.Options.Labels);
        stored.Options.Args.Should().Equal(box.Options.Args);
        stored.Options.Limits.Should().Be(box.Options.Limits);
        stored.Containment.Should().Be(box.Containment);
    }

    [Fact]
    public async Task Times_keep_their_instant_and_come_back_in_utc()
    {
        var created = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(5.5)).AddTicks(7);
        var box = NewBox() with { CreatedAt = created };

        await _store.InsertAsync(box, Ct);

        var stored = await _store.GetAsync(box.Id, Ct);
        stored!.CreatedAt.UtcTicks.Should().Be(created.UtcTicks);
        stored.CreatedAt.Offset.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task An_inserted_record_starts_at_version_one()
    {
        var inserted = await _store.InsertAsync(NewBox() with { Version = 42 }, Ct);

        inserted.Version.Should().Be(1);
        (await _store.GetAsync(inserted.Id, Ct))!.Version.Should().Be(1);
    }

    [Fact]
    public async Task A_missing_record_is_null()
    {
        (await _store.GetAsync(BoxId.New(), Ct)).Should().BeNull();
        (await _store.GetByNameAsync("nobody", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task A_record_is_found_by_its_name()
    {
        var named = await _store.InsertAsync(FullBox(), Ct);
        await _store.InsertAsync(NewBox("other"), Ct);

        var found = await _store.GetByNameAsync(named.Name!, Ct);

        found.Should().BeEquivalentTo(named);
    }

    [Fact]
    public async Task A_prefix_finds_exactly_the_ids_that_start_with_it()
    {
        var boxes = new List<BoxInfo>();
        for (var i = 0; i < 40; i++)
        {
            boxes.Add(await _store.InsertAsync(NewBox(), Ct));
        }

        var prefix = boxes[7].Id.Value[..2];

        var found = await _store.FindByIdPrefixAsync(prefix, Ct);

        found.Select(b => b.Id).Should().BeEquivalentTo(boxes.Where(b => b.Id.Value.StartsWith(prefix, StringComparison.Ordinal)).Select(b => b.Id));
        (await _store.FindByIdPrefixAsync(boxes[7].Id.Value, Ct)).Should().ContainSingle().Which.Should().BeEquivalentTo(boxes[7]);
        (await _store.FindByIdPrefixAsync(boxes[7].Id.Value + "0", Ct)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("AB")]
    [InlineData("a%")]
    [InlineData("a_")]
    [InlineData("../")]
    public async Task A_prefix_outside_the_id_alphabet_is_refused(string prefix)
    {
        var act = () => _store.FindByIdPrefixAsync(prefix, Ct);

        await act.Should().ThrowAsync<InvalidBoxIdException>();
    }

    [Fact]
    public async Task The_list_holds_every_record_oldest_first()
    {
        var start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var inserted = new List<BoxInfo>();
        foreach (var minutes in new[] { 5, 1, 3, 2, 4 })
        {
            inserted.Add(await _store.InsertAsync(NewBox() with { CreatedAt = start.AddMinutes(minutes) }, Ct));
        }

        var list = await _store.ListAsync(Ct);

        list.Should().BeEquivalentTo(inserted.OrderBy(b => b.CreatedAt), o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task A_taken_name_is_a_conflict_and_nothing_is_inserted()
    {
        await _store.InsertAsync(NewBox("web"), Ct);
        var second = NewBox("web");

        var act = () => _store.InsertAsync(second, Ct);

        (await act.Should().ThrowAsync<BoxNameConflictException>()).Which.Name.Should().Be("web");
        (await _store.GetAsync(second.Id, Ct)).Should().BeNull();
        (await _store.ListAsync(Ct)).Should().ContainSingle();
    }

    [Fact]
    public async Task Many_records_may_have_no_name()
    {
        await _store.InsertAsync(NewBox(), Ct);
        await _store.InsertAsync(NewBox(), Ct);

        (await _store.ListAsync(Ct)).Should().HaveCount(2);
    }

    [Fact]
    public async Task A_taken_id_is_a_store_error()
    {
        var box = await _store.InsertAsync(NewBox("first"), Ct);

        var act = () => _store.InsertAsync(NewBox("second") with { Id = box.Id }, Ct);

        await act.Should().ThrowAsync<BoxStoreException>().WithMessage($"*{box.Id}*already exists*");
        (await _store.GetAsync(box.Id, Ct))!.Name.Should().Be("first");
    }

    [Fact]
    public async Task An_update_stores_every_field_with_the_next_version()
    {
        var box = await _store.InsertAsync(NewBox("before"), Ct);
        var full = FullBox();
        var changed = full with { Id = box.Id, State = BoxState.Starting, Version = box.Version };

        var stored = await _store.TryUpdateAsync(changed, Ct);

        stored.Should().BeEquivalentTo(changed with { Version = 2 }, o => o.IncludingInternalProperties());
        (await _store.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(stored, o => o.IncludingInternalProperties());
        (await _store.GetByNameAsync("before", Ct)).Should().BeNull();
    }

    [Fact]
    public async Task An_update_with_a_stale_version_changes_nothing_and_returns_null()
    {
        var box = await _store.InsertAsync(NewBox(), Ct);
        var running = await _store.TryUpdateAsync(box with { State = BoxState.Starting }, Ct);

        var stale = await _store.TryUpdateAsync(box with { State = BoxState.Failed, StatusReason = "late" }, Ct);

        stale.Should().BeNull();
        (await _store.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(running);
    }

    [Fact]
    public async Task An_update_of_a_missing_record_returns_null()
    {
        var result = await _store.TryUpdateAsync(NewBox() with { Version = 1 }, Ct);

        result.Should().BeNull();
        (await _store.ListAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_forbidden_transition_throws_and_changes_nothing()
    {
        var box = await _store.InsertAsync(NewBox(), Ct);

        var act = () => _store.TryUpdateAsync(box with { State = BoxState.Exited }, Ct);

        var thrown = await act.Should().ThrowAsync<InvalidBoxStateException>();
        thrown.Which.State.Should().Be(BoxState.Created);
        (await _store.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(box);
    }

    [Fact]
    public async Task Renaming_to_a_taken_name_is_a_conflict_and_changes_nothing()
    {
        await _store.InsertAsync(NewBox("taken"), Ct);
        var box = await _store.InsertAsync(NewBox("mine"), Ct);

        var act = () => _store.TryUpdateAsync(box with { Name = "taken" }, Ct);

        await act.Should().ThrowAsync<BoxNameConflictException>();
        (await _store.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(box);
    }

    [Fact]
    public async Task Concurrent_updates_of_one_version_have_exactly_one_winner()
    {
        var current = await _store.InsertAsync(NewBox(), Ct);
        for (var round = 0; round < 5; round++)
        {
            var basis = current;
            var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(writer =>
                Task.Run(() => _store.TryUpdateAsync(basis with { StatusReason = $"writer {writer}" }, Ct), Ct)));

            var winner = results.Should().ContainSingle(r => r != null).Which!;
            winner.Version.Should().Be(basis.Version + 1);
            (await _store.GetAsync(basis.Id, Ct)).Should().BeEquivalentTo(winner);
            current = winner;
        }
    }

    [Fact]
    public async Task A_delete_with_the_current_version_removes_the_record()
    {
        var box = await _store.InsertAsync(NewBox("gone"), Ct);

        (await _store.TryDeleteAsync(box.Id, box.Version, Ct)).Should().BeTrue();

        (await _store.GetAsync(box.Id, Ct)).Should().BeNull();
        await _store.InsertAsync(NewBox("gone"), Ct);
    }

    [Fact]
    public async Task A_delete_with_a_stale_version_keeps_the_record()
    {
        var box = await _store.InsertAsync(NewBox(), Ct);
        var running = await _store.TryUpdateAsync(box with { State = BoxState.Starting }, Ct);

        (await _store.TryDeleteAsync(box.Id, box.Version, Ct)).Should().BeFalse();
        (await _store.TryDeleteAsync(BoxId.New(), 1, Ct)).Should().BeFalse();

        (await _store.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(running);
    }

    [Fact]
    public async Task Records_survive_reopening_the_store()
    {
        var box = await _store.InsertAsync(FullBox(), Ct);

        using var reopened = _home.Open();

        (await reopened.GetAsync(box.Id, Ct)).Should().BeEquivalentTo(box);
    }

    [Theory]
    [InlineData("state = 'Sideways'", "*unknown state 'Sideways'*")]
    [InlineData("state = 'Created,Running'", "*unknown state 'Created,Running'*")]
    [InlineData("state = '2'", "*unknown state '2'*")]
    [InlineData("options = '{\"args\":[]}'", "*command*")]
    [InlineData("options = '{'", "*")]
    [InlineData("options = 'null'", "*no options*")]
    [InlineData("created_at = 'yesterday'", "*invalid time 'yesterday'*")]
    [InlineData("monitor_start_time = NULL", "*")]
    public async Task An_unreadable_record_is_listed_as_unknown_with_the_reason_and_never_hides_the_others(string damage, string reason)
    {
        var before = await _store.InsertAsync(NewBox("before"), Ct);
        var bad = await _store.InsertAsync(FullBox(), Ct);
        var after = await _store.InsertAsync(NewBox("after"), Ct);
        _home.Execute($"UPDATE boxes SET {damage} WHERE id = '{bad.Id}'");

        var listed = await _store.ListAsync(Ct);

        listed.Select(b => b.Id).Should().BeEquivalentTo([before.Id, bad.Id, after.Id]);
        listed.Single(b => b.Id == before.Id).Should().BeEquivalentTo(before);
        listed.Single(b => b.Id == after.Id).Should().BeEquivalentTo(after);
        var unreadable = listed.Single(b => b.Id == bad.Id);
        unreadable.State.Should().Be(BoxState.Unknown);
        unreadable.StatusReason.Should().StartWith("unreadable record: ").And.Match(reason);
        unreadable.Version.Should().Be(bad.Version);
        (await _store.GetAsync(bad.Id, Ct)).Should().BeEquivalentTo(unreadable);
        (await _store.GetByNameAsync("web-1", Ct))!.Id.Should().Be(bad.Id);
    }

    [Fact]
    public async Task An_unreadable_record_is_never_written_back_but_can_be_deleted()
    {
        var bad = await _store.InsertAsync(NewBox(), Ct);
        _home.Execute($"UPDATE boxes SET options = '{{' WHERE id = '{bad.Id}'");
        var unreadable = (await _store.GetAsync(bad.Id, Ct))!;

        var write = () => _store.TryUpdateAsync(unreadable with { State = BoxState.Exited }, Ct);

        await write.Should().ThrowAsync<InvalidBoxStateException>().WithMessage("*cannot be read*");
        _home.Query($"SELECT options FROM boxes WHERE id = '{bad.Id}'").Should().Be("{");
        (await _store.TryDeleteAsync(bad.Id, unreadable.Version, Ct)).Should().BeTrue();
        (await _store.ListAsync(Ct)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_row_whose_id_is_not_a_box_id_is_skipped()
    {
        var good = await _store.InsertAsync(NewBox(), Ct);
        _home.Execute($"INSERT INTO boxes (id, state, options, created_at, version) SELECT 'Not/An/Id', state, options, created_at, version FROM boxes WHERE id = '{good.Id}'");

        (await _store.ListAsync(Ct)).Select(b => b.Id).Should().Equal(good.Id);
    }

    [Fact]
    public async Task A_disposed_store_refuses_operations()
    {
        _store.Dispose();

        var act = () => _store.ListAsync(Ct);

        await act.Should().ThrowAsync<ObjectDisposedException>();
    }

    internal static BoxInfo NewBox(string? name = null) => new()
    {
        Id = BoxId.New(),
        Name = name,
        State = BoxState.Created,
        Options = new BoxOptions { Command = "/bin/sleep", Args = ["10"], Name = name },
        CreatedAt = DateTimeOffset.UtcNow,
    };

    private static BoxInfo FullBox()
    {
        var created = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234567);
        return new BoxInfo
        {
            Id = BoxId.New(),
            Name = "web-1",
            State = BoxState.Exited,
            Options = new BoxOptions
            {
                Command = "/usr/bin/env",
                Args = ["a b", "--flag=1", "ünïcode ✓", "", "quote \" ' \\ end"],
                Environment = new Dictionary<string, string> { ["FOO"] = "bar", ["EMPTY"] = "", ["MULTI"] = "line1\nline2" },
                WorkingDirectory = "/srv/app",
                Name = "web-1",
                Detached = true,
                AutoRemove = true,
                StopSignal = "INT",
                StopTimeout = TimeSpan.FromTicks(25_000_123),
                Isolation = BoxIsolation.Bubblewrap,
                Limits = new BoxLimits { MemoryBytes = 256L * 1024 * 1024, Cpus = 0.3, PidsMax = 64 },
                Labels = new Dictionary<string, string> { ["team"] = "infra", ["ticket"] = "BX-1" },
            },
            CreatedAt = created,
            StartedAt = created.AddSeconds(1),
            FinishedAt = created.AddMinutes(2),
            ExitCode = 137,
            KilledBy = "KILL",
            StatusReason = "reaped after the grace period",
            Monitor = new ProcessIdentity(4242, 987_654_321_000, "3f1c2a9e-boot"),
            Owner = new ProcessIdentity(77, 12, "3f1c2a9e-boot"),
            Holder = new ProcessIdentity(78, 13, "3f1c2a9e-boot"),
            Reaper = "cgroup-kill",
            Containment = "/boxlite-0123456789ab/abcdefghij012345",
            Version = 1,
        };
    }
}
