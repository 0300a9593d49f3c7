using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Boxlite.Runtime.State;

/// <summary>
/// The embedded box store: one SQLite file per home, in WAL mode, shared by every process that uses the home.
/// Each operation takes a pooled connection; changes are compare-and-set transactions that take the write
/// lock up front (<c>BEGIN IMMEDIATE</c>), so concurrent writers queue instead of deadlocking. The writers of one
/// process queue in the process (an async gate per file), so only writers of other processes ever meet SQLite's
/// busy handler, which sleeps in steps of up to 100 ms.
/// </summary>
internal sealed class SqliteBoxStore : IBoxStore
{
    /// <summary>The file name of the store inside the home directory.</summary>
    public const string FileName = "boxlite.db";

    /// <summary>How long an operation waits for another writer before it gives up.</summary>
    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(10);

    private const string Columns =
        "id, name, state, options, created_at, started_at, finished_at, exit_code, killed_by, status_reason, " +
        "monitor_pid, monitor_start_time, monitor_boot_id, owner_pid, owner_start_time, owner_boot_id, reaper, version, containment, " +
        "holder_pid, holder_start_time, holder_boot_id";

    private const string InsertSql =
        $"INSERT INTO boxes ({Columns}) VALUES " +
        "($id, $name, $state, $options, $created_at, $started_at, $finished_at, $exit_code, $killed_by, $status_reason, " +
        "$monitor_pid, $monitor_start_time, $monitor_boot_id, $owner_pid, $owner_start_time, $owner_boot_id, $reaper, $version, $containment, " +
        "$holder_pid, $holder_start_time, $holder_boot_id);";

    private const string UpdateSql =
        "UPDATE boxes SET name = $name, state = $state, options = $options, created_at = $created_at, " +
        "started_at = $started_at, finished_at = $finished_at, exit_code = $exit_code, killed_by = $killed_by, " +
        "status_reason = $status_reason, monitor_pid = $monitor_pid, monitor_start_time = $monitor_start_time, " +
        "monitor_boot_id = $monitor_boot_id, owner_pid = $owner_pid, owner_start_time = $owner_start_time, " +
        "owner_boot_id = $owner_boot_id, reaper = $reaper, version = $version, containment = $containment, " +
        "holder_pid = $holder_pid, holder_start_time = $holder_start_time, holder_boot_id = $holder_boot_id WHERE id = $id;";

    // The round-trip format of a UTC time: fixed width (sorts in time order as text), and parsed on a fast path.
    private const string TimestampFormat = "O";

    // SQLite result codes (https://sqlite.org/rescode.html) this store tells apart.
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteInterrupt = 9;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteConstraint = 19;
    private const int SqliteNotADatabase = 26;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    // One gate per database file, shared by every store of this process on that file.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> WriterGates = new(StringComparer.Ordinal);

    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writers;

    // Pooled connections keep their settings; configure each native connection once, not per operation.
    private readonly ConditionalWeakTable<sqlite3, object> _configured = [];
    private int _disposed;

    private SqliteBoxStore(string path, TimeProvider time)
    {
        Location = path;
        _time = time;
        _writers = WriterGates.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>
    /// Opens (creating when missing) the store of <paramref name="homeDirectory"/> at <c>&lt;home&gt;/boxlite.db</c>
    /// and brings its schema up to date. The home is checked first and known by its fully resolved path; the
    /// database is kept 0600.
    /// </summary>
    /// <exception cref="PlatformCapabilityException">The home is not safe to use (see <see cref="BoxliteHome.Prepare"/>).</exception>
    /// <exception cref="BoxStoreException">The home cannot be created or written, or the file is corrupt,
    /// foreign, or from a newer version.</exception>
    public static SqliteBoxStore Open(string homeDirectory, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(homeDirectory);
        var home = BoxliteHome.Resolve(homeDirectory);
        var path = Path.Combine(home, FileName);
        try
        {
            BoxliteHome.Prepare(home);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BoxStoreException(path, $"cannot create the home directory {home}: {ex.Message}", ex);
        }

        try
        {
            BoxliteHome.PrepareDatabase(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new BoxStoreException(path, $"cannot create the database file: {ex.Message}", ex);
        }

        var store = new SqliteBoxStore(path, time ?? TimeProvider.System);
        var started = store._time.GetTimestamp();
        try
        {
            using var connection = store.Connect();
            BoxStoreSchema.Prepare(connection, path);
            return store;
        }
        catch (SqliteException ex)
        {
            store.Dispose();
            throw store.Failure(ex, started);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task<BoxInfo> InsertAsync(BoxInfo box, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(box);
        var stored = box with { Version = 1 };
        return RunAsync(
            async (connection, ct) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = InsertSql;
                Bind(command, stored);
                try
                {
                    await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteConstraint)
                {
                    throw ConstraintFailure(ex, stored);
                }

                return stored;
            },
            cancellationToken,
            write: true);
    }

    /// <inheritdoc />
    public Task<BoxInfo?> GetAsync(BoxId id, CancellationToken cancellationToken = default)
    {
        var key = id.Value;
        return RunAsync(
            async (connection, ct) =>
            {
                var found = await QueryAsync(connection, "WHERE id = $key", key, ct).ConfigureAwait(false);
                return found.Count == 0 ? null : found[0];
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<BoxInfo?> GetByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return RunAsync(
            async (connection, ct) =>
            {
                var found = await QueryAsync(connection, "WHERE name = $key", name, ct).ConfigureAwait(false);
                return found.Count == 0 ? null : found[0];
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<BoxInfo>> FindByIdPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(prefix) || !BoxId.IsIdText(prefix))
        {
            throw new InvalidBoxIdException(prefix);
        }

        // A range on the primary key: every id character sorts below 0x7f, so [prefix, prefix + 0x7f) holds
        // exactly the ids that start with prefix, and needs no LIKE escaping.
        return RunAsync<IReadOnlyList<BoxInfo>>(
            async (connection, ct) =>
                await QueryAsync(connection, "WHERE id >= $key AND id < $key || char(127)", prefix, ct).ConfigureAwait(false),
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<BoxInfo>>(
            async (connection, ct) => await QueryAsync(connection, string.Empty, null, ct).ConfigureAwait(false),
            cancellationToken);

    /// <inheritdoc />
    public Task<BoxInfo?> TryUpdateAsync(BoxInfo updated, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updated);
        if (updated.IsUnreadable)
        {
            // Writing it back would replace what could not be read with placeholders.
            throw new InvalidBoxStateException(updated.Id, BoxState.Unknown, "its record cannot be read; it can only be removed with force");
        }

        return RunAsync(
            async (connection, ct) =>
            {
                using var transaction = connection.BeginTransaction(deferred: false);
                BoxState current;
                using (var read = connection.CreateCommand())
                {
                    read.CommandText = "SELECT state, version FROM boxes WHERE id = $id;";
                    read.Parameters.AddWithValue("$id", updated.Id.Value);
                    using var reader = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    if (!await reader.ReadAsync(ct).ConfigureAwait(false) || reader.GetInt64(1) != updated.Version)
                    {
                        return null;
                    }

                    current = ParseState(reader.GetString(0))
                        ?? throw new BoxStoreException(Location, $"record {updated.Id} has the unknown state '{reader.GetString(0)}'");
                }

                if (current != updated.State)
                {
                    BoxStateMachine.EnsureTransition(updated.Id, current, updated.State);
                }

                var stored = updated with { Version = updated.Version + 1 };
                using (var write = connection.CreateCommand())
                {
                    write.CommandText = UpdateSql;
                    Bind(write, stored);
                    try
                    {
                        await write.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    }
                    catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteConstraint)
                    {
                        throw ConstraintFailure(ex, stored);
                    }
                }

                transaction.Commit();
                return stored;
            },
            cancellationToken,
            write: true);
    }

    /// <inheritdoc />
    public Task<bool> TryDeleteAsync(BoxId id, long expectedVersion, CancellationToken cancellationToken = default)
    {
        var key = id.Value;
        return RunAsync(
            async (connection, ct) =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = "DELETE FROM boxes WHERE id = $id AND version = $version;";
                command.Parameters.AddWithValue("$id", key);
                command.Parameters.AddWithValue("$version", expectedVersion);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
            },
            cancellationToken,
            write: true);
    }

    /// <summary>Closes the pooled connections, so the files can be moved or deleted.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private async Task<T> RunAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken, bool write = false)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var started = _time.GetTimestamp();
        if (write)
        {
            await _writers.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            using var connection = Connect();
            return await operation(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SqliteInterrupt && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("The store operation was cancelled.", ex, cancellationToken);
        }
        catch (SqliteException ex)
        {
            throw Failure(ex, started);
        }
        finally
        {
            if (write)
            {
                _writers.Release();
            }
        }
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            var handle = connection.Handle!;
            if (!_configured.TryGetValue(handle, out _))
            {
                // Busy: another process holds the write lock; SQLite's handler sleeps and retries until the timeout.
                // synchronous=NORMAL in WAL mode: a commit is in the WAL (the OS's page cache) before it returns, so
                // a killed process loses nothing it committed (G4 is about the host being SIGKILLed); only a power
                // loss or kernel crash can drop the last commits, and it leaves the file consistent. After such a
                // crash every box is gone with the boot, and recovery reconciles whatever the records say. FULL
                // would add an fsync to every commit, several per box, for no guarantee the runtime makes.
                SqliteException.ThrowExceptionForRC(raw.sqlite3_busy_timeout(handle, (int)BusyTimeout.TotalMilliseconds), handle);
                SqliteException.ThrowExceptionForRC(raw.sqlite3_exec(handle, "PRAGMA synchronous = NORMAL;"), handle);
                _configured.AddOrUpdate(handle, handle);
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static async Task<List<BoxInfo>> QueryAsync(SqliteConnection connection, string where, string? key, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM boxes {where} ORDER BY created_at, id;";
        if (key is not null)
        {
            command.Parameters.AddWithValue("$key", key);
        }

        var boxes = new List<BoxInfo>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (ReadRecord(reader) is { } box)
            {
                boxes.Add(box);
            }
        }

        return boxes;
    }

    private static void Bind(SqliteCommand command, BoxInfo box)
    {
        var p = command.Parameters;
        p.AddWithValue("$id", box.Id.Value);
        p.AddWithValue("$name", (object?)box.Name ?? DBNull.Value);
        p.AddWithValue("$state", box.State.ToString());
        p.AddWithValue("$options", JsonSerializer.Serialize(box.Options, BoxStoreJson.Default.BoxOptions));
        p.AddWithValue("$created_at", FormatTime(box.CreatedAt));
        p.AddWithValue("$started_at", box.StartedAt is { } started ? FormatTime(started) : DBNull.Value);
        p.AddWithValue("$finished_at", box.FinishedAt is { } finished ? FormatTime(finished) : DBNull.Value);
        p.AddWithValue("$exit_code", (object?)box.ExitCode ?? DBNull.Value);
        p.AddWithValue("$killed_by", (object?)box.KilledBy ?? DBNull.Value);
        p.AddWithValue("$status_reason", (object?)box.StatusReason ?? DBNull.Value);
        p.AddWithValue("$monitor_pid", (object?)box.Monitor?.Pid ?? DBNull.Value);
        p.AddWithValue("$monitor_start_time", (object?)box.Monitor?.StartTime ?? DBNull.Value);
        p.AddWithValue("$monitor_boot_id", (object?)box.Monitor?.BootId ?? DBNull.Value);
        p.AddWithValue("$owner_pid", (object?)box.Owner?.Pid ?? DBNull.Value);
        p.AddWithValue("$owner_start_time", (object?)box.Owner?.StartTime ?? DBNull.Value);
        p.AddWithValue("$owner_boot_id", (object?)box.Owner?.BootId ?? DBNull.Value);
        p.AddWithValue("$reaper", (object?)box.Reaper ?? DBNull.Value);
        p.AddWithValue("$version", box.Version);
        p.AddWithValue("$containment", (object?)box.Containment ?? DBNull.Value);
        p.AddWithValue("$holder_pid", (object?)box.Holder?.Pid ?? DBNull.Value);
        p.AddWithValue("$holder_start_time", (object?)box.Holder?.StartTime ?? DBNull.Value);
        p.AddWithValue("$holder_boot_id", (object?)box.Holder?.BootId ?? DBNull.Value);
    }

    // Column order follows Columns. A row that cannot be read whole comes back Unknown with the reason and what could
    // be read of it, so that one damaged record neither hides nor blocks the others, and can still be removed. A row
    // whose id is not a box id is skipped: it names no directory or containment, so nothing of it can be acted on.
    private static BoxInfo? ReadRecord(SqliteDataReader reader)
    {
        if (!BoxId.TryParse(reader.GetString(0), out var id))
        {
            return null;
        }

        try
        {
            return ReadWhole(reader, id);
        }
        catch (Exception e) when (e is FormatException or JsonException or NotSupportedException or InvalidCastException or InvalidOperationException or OverflowException)
        {
            return new BoxInfo
            {
                Id = id,
                Name = Salvage(() => NullableString(reader, 1)),
                State = BoxState.Unknown,
                Options = new BoxOptions { Command = "?" },
                CreatedAt = Salvage(() => (DateTimeOffset?)ParseTime(reader.GetString(4))) ?? DateTimeOffset.UnixEpoch,
                Monitor = Salvage(() => ReadIdentity(reader, 10)),
                Owner = Salvage(() => ReadIdentity(reader, 13)),
                Reaper = Salvage(() => NullableString(reader, 16)),
                Containment = Salvage(() => NullableString(reader, 18)),
                Holder = Salvage(() => ReadIdentity(reader, 19)),
                StatusReason = "unreadable record: " + e.Message.ReplaceLineEndings(" "),
                Version = reader.GetInt64(17),
                IsUnreadable = true,
            };
        }
    }

    private static BoxInfo ReadWhole(SqliteDataReader reader, BoxId id) => new()
    {
        Id = id,
        Name = NullableString(reader, 1),
        State = ParseState(reader.GetString(2)) ?? throw new FormatException($"unknown state '{reader.GetString(2)}'"),
        Options = JsonSerializer.Deserialize(reader.GetString(3), BoxStoreJson.Default.BoxOptions) ?? throw new FormatException("no options"),
        CreatedAt = ParseTime(reader.GetString(4)),
        StartedAt = reader.IsDBNull(5) ? null : ParseTime(reader.GetString(5)),
        FinishedAt = reader.IsDBNull(6) ? null : ParseTime(reader.GetString(6)),
        ExitCode = reader.IsDBNull(7) ? null : reader.GetInt32(7),
        KilledBy = NullableString(reader, 8),
        StatusReason = NullableString(reader, 9),
        Monitor = ReadIdentity(reader, 10),
        Owner = ReadIdentity(reader, 13),
        Reaper = NullableString(reader, 16),
        Version = reader.GetInt64(17),
        Containment = NullableString(reader, 18),
        Holder = ReadIdentity(reader, 19),
    };

    private static T? Salvage<T>(Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or InvalidOperationException or OverflowException)
        {
            return default;
        }
    }

    private static ProcessIdentity? ReadIdentity(SqliteDataReader reader, int first) =>
        reader.IsDBNull(first)
            ? null
            : new ProcessIdentity(reader.GetInt32(first), reader.GetInt64(first + 1), reader.GetString(first + 2));

    private static string? NullableString(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    // Only the exact name: Enum.TryParse alone also takes numbers and combines "Created,Running".
    private static BoxState? ParseState(string text) =>
        Enum.TryParse<BoxState>(text, ignoreCase: false, out var state) && state.ToString() == text ? state : null;

    // UTC text, readable with the sqlite3 shell: 2025-03-04T05:06:07.1234567Z.
    private static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.TryParseExact(text, TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var time) && time.Offset == TimeSpan.Zero
            ? time
            : throw new FormatException($"invalid time '{text}'");

    private Exception ConstraintFailure(SqliteException ex, BoxInfo box) => ex.SqliteExtendedErrorCode switch
    {
        SqliteConstraintUnique when box.Name is not null => new BoxNameConflictException(box.Name),
        SqliteConstraintPrimaryKey => new BoxStoreException(Location, $"a box with id {box.Id} already exists", ex),
        _ => new BoxStoreException(Location, $"record {box.Id} was refused: {ex.Message}", ex),
    };

    private BoxStoreException Failure(SqliteException ex, long started)
    {
        var problem = ex.SqliteErrorCode switch
        {
            SqliteBusy or SqliteLocked => string.Create(
                CultureInfo.InvariantCulture,
                $"the database stayed locked by another process for {_time.GetElapsedTime(started).TotalSeconds:F1} s"),
            SqliteNotADatabase => "not a SQLite database (the file is corrupt or belongs to something else); move it away to start afresh",
            SqliteCorrupt => "the database is corrupt; move the file away to start afresh",
            SqliteCantOpen => "cannot open the database file (is the directory writable?)",
            SqliteReadOnly => "the database is read-only (check the permissions of the file and its directory)",
            SqliteFull => "the disk is full",
            SqliteIoError => $"I/O error: {ex.Message}",
            _ => ex.Message,
        };
        return new BoxStoreException(Location, problem, ex);
    }
}
