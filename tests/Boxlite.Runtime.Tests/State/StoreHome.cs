using Boxlite.Runtime.State;
using Microsoft.Data.Sqlite;

namespace Boxlite.Runtime.Tests.State;

/// <summary>A fresh home directory for one test, removed with everything in it afterwards.</summary>
internal sealed class StoreHome : IDisposable
{
    /// <summary>A new temporary home, or <paramref name="path"/> (which this then owns and removes).</summary>
    public StoreHome(string? path = null)
    {
        Path = path ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), "boxlite-store-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, SqliteBoxStore.FileName);

    public SqliteBoxStore Open() => SqliteBoxStore.Open(Path);

    /// <summary>Runs SQL on the store file directly, outside the store (unpooled, so nothing stays open).</summary>
    public void Execute(string sql) => WithCommand(sql, command => command.ExecuteNonQuery());

    /// <summary>The first value of a query on the store file, read outside the store.</summary>
    public object? Query(string sql) => WithCommand(sql, command => command.ExecuteScalar());

    private T WithCommand<T>(string sql, Func<SqliteCommand, T> run)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return run(command);
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
