using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Tests.State;

public sealed class SqliteBoxStoreFileTests : IDisposable
{
    /// <summary>The table as the first schema made it.</summary>
    private const string FirstSchema =
        """
        CREATE TABLE boxes (
            id TEXT NOT NULL PRIMARY KEY, name TEXT UNIQUE, state TEXT NOT NULL, options TEXT NOT NULL,
            created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, exit_code INTEGER, killed_by TEXT,
            status_reason TEXT, monitor_pid INTEGER, monitor_start_time INTEGER, monitor_boot_id TEXT,
            owner_pid INTEGER, owner_start_time INTEGER, owner_boot_id TEXT, reaper TEXT, version INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX boxes_by_creation ON boxes (created_at, id);

        """;

    private readonly StoreHome _home = new();

    public void Dispose() => _home.Dispose();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Opening_a_missing_home_creates_it_with_the_current_schema_in_wal_mode()
    {
        var home = Path.Combine(_home.Path, "nested", "home");

        using (var store = SqliteBoxStore.Open(home))
        {
            store.Location.Should().Be(Path.Combine(home, "boxlite.db"));
            (await store.ListAsync(Ct)).Should().BeEmpty();
        }

        using var nested = new StoreHome(home);
        nested.Query("PRAGMA user_version").Should().Be((long)BoxStoreSchema.CurrentVersion);
        nested.Query("PRAGMA application_id").Should().Be((long)BoxStoreSchema.ApplicationId);
        nested.Query("PRAGMA journal_mode").Should().Be("wal");
    }

    [Fact]
    public async Task An_empty_file_becomes_a_store()
    {
        await File.WriteAllBytesAsync(_home.DatabasePath, [], Ct);

        using var store = _home.Open();

        (await store.InsertAsync(SqliteBoxStoreTests.NewBox("first"), Ct)).Version.Should().Be(1);
        _home.Query("PRAGMA user_version").Should().Be((long)BoxStoreSchema.CurrentVersion);
    }

    [Fact]
    public async Task Many_openers_of_a_fresh_home_at_once_all_succeed()
    {
        var home = Path.Combine(_home.Path, "fresh");

        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => SqliteBoxStore.Open(home), Ct)));
        try
        {
            await Task.WhenAll(stores.Select(s => s.InsertAsync(SqliteBoxStoreTests.NewBox(), Ct)));
            (await stores[0].ListAsync(Ct)).Should().HaveCount(8);
        }
        finally
        {
            foreach (var store in stores)
            {
                store.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("random")]
    [InlineData("text")]
    [InlineData("sqlite-header-then-garbage")]
    public async Task A_corrupt_file_is_refused_naming_the_file_and_left_unchanged(string kind)
    {
        var content = kind switch
        {
            "random" => RandomBytes(8192),
            "text" => "this is not a database\n"u8.ToArray(),
            _ => [.. "SQLite format 3\0"u8.ToArray(), .. RandomBytes(4096)],
        };
        await File.WriteAllBytesAsync(_home.DatabasePath, content, Ct);

        var act = () => _home.Open();

        act.Should().Throw<BoxStoreException>()
            .WithMessage($"*{_home.DatabasePath}*")
            .Which.Path.Should().Be(_home.DatabasePath);
        (await File.ReadAllBytesAsync(_home.DatabasePath, Ct)).Should().Equal(content);
        Directory.GetFiles(_home.Path).Should().Equal(_home.DatabasePath);
    }

    [Theory]
    [InlineData("CREATE TABLE notes (x); INSERT INTO notes VALUES (1);", "*not a Boxlite box store*notes*")]
    [InlineData("PRAGMA application_id = 1234;", "*another application*0x000004d2*")]
    [InlineData("PRAGMA user_version = 7;", "*not a Boxlite box store*user_version 7*")]
    [InlineData("PRAGMA application_id = 1115180148;", "*inconsistent*")]
    public async Task A_foreign_database_is_refused_and_left_unchanged(string setup, string message)
    {
        _home.Execute(setup);
        var before = await File.ReadAllBytesAsync(_home.DatabasePath, Ct);

        var act = () => _home.Open();

        act.Should().Throw<BoxStoreException>().WithMessage(message).Which.Path.Should().Be(_home.DatabasePath);
        (await File.ReadAllBytesAsync(_home.DatabasePath, Ct)).Should().Equal(before);
    }

    [Fact]
    public async Task A_store_of_the_first_schema_is_migrated_forward_keeping_its_records()
    {
        _home.Execute(
            FirstSchema +
            """
            INSERT INTO boxes (id, state, options, created_at, version)
                VALUES ('abcdefghij012345', 'Created', '{"command":"/bin/true"}', '2025-03-04T05:06:07.0000000Z', 3);
            PRAGMA application_id = 1115180148; PRAGMA user_version = 1;
            """);

        using var store = _home.Open();
        var old = await store.GetAsync(BoxId.Parse("abcdefghij012345"), Ct);
        var updated = await store.TryUpdateAsync(old! with { Containment = "/boxlite-0123456789ab/abcdefghij012345" }, Ct);

        old.Options.Command.Should().Be("/bin/true");
        old.Version.Should().Be(3);
        old.Containment.Should().BeNull("records made before the containment was recorded have none");
        (await store.GetAsync(old.Id, Ct))!.Containment.Should().Be(updated!.Containment);
        _home.Query("PRAGMA user_version").Should().Be((long)BoxStoreSchema.CurrentVersion);
    }

    [Fact]
    public async Task A_start_under_way_in_a_store_of_the_second_schema_becomes_starting_held_by_its_starter()
    {
        _home.Execute(
            FirstSchema + "ALTER TABLE boxes ADD COLUMN containment TEXT;" +
            """
            INSERT INTO boxes (id, state, options, created_at, status_reason, owner_pid, owner_start_time, owner_boot_id, version)
                VALUES ('abcdefghij012345', 'Created', '{"command":"/bin/true"}', '2025-03-04T05:06:07.0000000Z', 'starting', 77, 12, 'boot', 2);
            INSERT INTO boxes (id, state, options, created_at, owner_pid, owner_start_time, owner_boot_id, version)
                VALUES ('abcdefghij012346', 'Stopping', '{"command":"/bin/true"}', '2025-03-04T05:06:08.0000000Z', 78, 13, 'boot', 5);
            INSERT INTO boxes (id, state, options, created_at, version)
                VALUES ('abcdefghij012347', 'Created', '{"command":"/bin/true"}', '2025-03-04T05:06:09.0000000Z', 1);
            PRAGMA application_id = 1115180148; PRAGMA user_version = 2;
            """);

        using var store = _home.Open();
        var starting = await store.GetAsync(BoxId.Parse("abcdefghij012345"), Ct);
        var stopping = await store.GetAsync(BoxId.Parse("abcdefghij012346"), Ct);
        var created = await store.GetAsync(BoxId.Parse("abcdefghij012347"), Ct);

        starting!.State.Should().Be(BoxState.Starting);
        starting.StatusReason.Should().BeNull();
        starting.Holder.Should().Be(new ProcessIdentity(77, 12, "boot"));
        starting.Owner.Should().BeNull("an attached box gets its owner once it runs");
        stopping!.Holder.Should().Be(new ProcessIdentity(78, 13, "boot"));
        created!.State.Should().Be(BoxState.Created);
        created.Holder.Should().BeNull();
        _home.Query("PRAGMA user_version").Should().Be((long)BoxStoreSchema.CurrentVersion);
    }

    [Fact]
    public void A_store_from_a_newer_version_is_refused_with_both_versions()
    {
        _home.Open().Dispose();
        _home.Execute("PRAGMA user_version = 99;");

        var act = () => _home.Open();

        act.Should().Throw<BoxStoreException>()
            .WithMessage($"box store {_home.DatabasePath}: written by a newer Boxlite (schema 99, this version knows {BoxStoreSchema.CurrentVersion})*");
        _home.Query("PRAGMA user_version").Should().Be(99L);
    }

    [Fact]
    public void A_home_that_cannot_be_created_is_a_store_error()
    {
        var file = Path.Combine(_home.Path, "a-file");
        File.WriteAllText(file, "");
        var home = Path.Combine(file, "home");

        var act = () => SqliteBoxStore.Open(home);

        act.Should().Throw<BoxStoreException>().WithMessage("*cannot create the home directory*")
            .Which.Path.Should().Be(Path.Combine(home, "boxlite.db"));
    }

    [Fact]
    public void A_database_path_that_cannot_be_opened_is_a_store_error()
    {
        Directory.CreateDirectory(_home.DatabasePath);

        var act = () => _home.Open();

        act.Should().Throw<BoxStoreException>().Which.Path.Should().Be(_home.DatabasePath);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(12345).NextBytes(bytes);
        return bytes;
    }
}
