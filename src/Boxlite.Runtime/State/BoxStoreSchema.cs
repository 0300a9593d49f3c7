using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Boxlite.Runtime.State;

/// <summary>
/// The schema of the box store and its forward migrations. A database is ours only when its
/// <c>application_id</c> says so; anything else is refused, never reset or overwritten.
/// </summary>
internal static class BoxStoreSchema
{
    /// <summary><c>PRAGMA application_id</c> of every box store: "BxLt" in ASCII.</summary>
    public const int ApplicationId = 0x42784C74;

    /// <summary>
    /// Migration N (1-based) takes the schema from version N-1 to N. Append only: a released migration is
    /// never edited, because stores in the field were built by it.
    /// </summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE boxes (
            id TEXT NOT NULL PRIMARY KEY,
            name TEXT UNIQUE,
            state TEXT NOT NULL,
            options TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            exit_code INTEGER,
            killed_by TEXT,
            status_reason TEXT,
            monitor_pid INTEGER,
            monitor_start_time INTEGER,
            monitor_boot_id TEXT,
            owner_pid INTEGER,
            owner_start_time INTEGER,
            owner_boot_id TEXT,
            reaper TEXT,
            version INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX boxes_by_creation ON boxes (created_at, id);
        """,
        """
        ALTER TABLE boxes ADD COLUMN containment TEXT;
        """,
        // The holder of an in-flight start or stop gets columns of its own (the owner is only the process an attached
        // box belongs to), and a start under way becomes the state Starting instead of Created with reason "starting".
        """
        ALTER TABLE boxes ADD COLUMN holder_pid INTEGER;
        ALTER TABLE boxes ADD COLUMN holder_start_time INTEGER;
        ALTER TABLE boxes ADD COLUMN holder_boot_id TEXT;
        UPDATE boxes SET state = 'Starting', status_reason = NULL,
            holder_pid = owner_pid, holder_start_time = owner_start_time, holder_boot_id = owner_boot_id,
            owner_pid = NULL, owner_start_time = NULL, owner_boot_id = NULL, version = version + 1
            WHERE state = 'Created' AND status_reason = 'starting';
        UPDATE boxes SET holder_pid = owner_pid, holder_start_time = owner_start_time, holder_boot_id = owner_boot_id,
            version = version + 1
            WHERE state = 'Stopping';
        """,
    ];

    /// <summary>The schema version this code writes.</summary>
    public static int CurrentVersion => Migrations.Length;

    /// <summary>
    /// Checks that the database is a box store this code can use and brings an empty or older one to
    /// <see cref="CurrentVersion"/>. Safe when several processes prepare the same file at once.
    /// </summary>
    /// <exception cref="BoxStoreException">The file is foreign or from a newer version.</exception>
    public static void Prepare(SqliteConnection connection, string path)
    {
        // Read-only checks first: nothing is written to a file that turns out not to be ours. They run in a read
        // transaction so that a migration committed by another process is seen whole or not at all.
        int version;
        using (var look = connection.BeginTransaction(deferred: true))
        {
            version = Inspect(connection, path);
            look.Rollback();
        }

        Execute(connection, "PRAGMA journal_mode = WAL;");
        if (version == CurrentVersion)
        {
            return;
        }

        // IMMEDIATE takes the write lock up front; inside it, look again: another process may have
        // migrated the file since the first look.
        using var transaction = connection.BeginTransaction(deferred: false);
        version = Inspect(connection, path);
        for (var next = version; next < CurrentVersion; next++)
        {
            Execute(connection, Migrations[next]);
        }

        Execute(connection, string.Create(
            CultureInfo.InvariantCulture,
            $"PRAGMA application_id = {ApplicationId}; PRAGMA user_version = {CurrentVersion};"));
        transaction.Commit();
    }

    /// <summary>The schema version of an empty database or a box store; throws for anything else.</summary>
    private static int Inspect(SqliteConnection connection, string path)
    {
        var applicationId = Scalar(connection, "PRAGMA application_id;");
        var version = Scalar(connection, "PRAGMA user_version;");
        if (applicationId == ApplicationId)
        {
            if (version > CurrentVersion)
            {
                throw new BoxStoreException(path, string.Create(
                    CultureInfo.InvariantCulture,
                    $"written by a newer Boxlite (schema {version}, this version knows {CurrentVersion}); upgrade Boxlite or use another home directory"));
            }

            if (version < 1)
            {
                throw new BoxStoreException(path, string.Create(
                    CultureInfo.InvariantCulture,
                    $"inconsistent box store: schema version {version}; move the file away to start afresh"));
            }

            return (int)version;
        }

        if (applicationId != 0)
        {
            throw new BoxStoreException(path, string.Create(
                CultureInfo.InvariantCulture,
                $"not a Boxlite box store: it belongs to another application (application_id 0x{applicationId:x8})"));
        }

        var objects = ObjectNames(connection);
        if (version != 0 || objects.Count > 0)
        {
            var shown = objects.Count == 0 ? "no tables" : "tables " + string.Join(", ", objects.Take(5)) + (objects.Count > 5 ? ", …" : "");
            throw new BoxStoreException(path, string.Create(
                CultureInfo.InvariantCulture,
                $"not a Boxlite box store: a SQLite database of another application (user_version {version}, {shown})"));
        }

        return 0;
    }

    private static List<string> ObjectNames(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_schema ORDER BY name;";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
