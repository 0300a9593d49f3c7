using System.Runtime.Versioning;
using Boxlite.Runtime.Tests;
using Microsoft.Data.Sqlite;

namespace Boxlite.Cli.Tests;

/// <summary>
/// Homes as an attacker (a real second user, nobody) and an ordinary mistake (another spelling of the path, a damaged
/// record) meet them: the CLI trusts only a safe home, keeps it private, knows it by one identity, and one bad record
/// never takes the home down.
/// </summary>
[Trait("Category", "AdversarialBox")]
[UnsupportedOSPlatform("windows")]
public sealed class HomeBoundaryTests
{
    [Fact]
    public async Task A_shared_home_that_nobody_prepared_is_refused_before_anything_is_written_and_its_planted_log_link_stays_unused()
    {
        OtherUser.Require();
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var victim = Path.Combine(Path.GetTempPath(), $"boxlite-victim-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(victim, "untouched\n", TestContext.Current.CancellationToken);
        File.SetUnixFileMode(victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            // The home is nobody's: only this test may clear it away (TestHome would be refused by it).
            await OtherUser.DoAsync($"mkdir -m 755 '{home.Directory}' && mkdir -m 777 '{home.Directory}/boxes' && " +
                $"ln -s '{victim}' '{home.Directory}/boxes/output.log'");
            var before = Directory.GetFileSystemEntries(home.Directory, "*", SearchOption.AllDirectories);

            var result = await home.RunAsync("run", "--", "echo", "X");

            result.ExitCode.Should().Be(125, result.ToString());
            result.StderrLines.Should().ContainSingle().Which.Should().Match($"boxlite: the Boxlite home {home.Directory} is not safe to use: *owned by uid {OtherUser.Uid}*(fix: *)");
            (await File.ReadAllTextAsync(victim, TestContext.Current.CancellationToken)).Should().Be("untouched\n");
            Directory.GetFileSystemEntries(home.Directory, "*", SearchOption.AllDirectories).Should().BeEquivalentTo(before);
        }
        finally
        {
            File.Delete(victim);
            Directory.Delete(home.Directory, recursive: true);
        }
    }

    [Fact]
    public async Task Nobody_cannot_read_the_logs_or_the_database_of_a_home_made_under_a_permissive_umask()
    {
        OtherUser.Require();
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await Cli.CompleteAsync(home.StartWithUmask("000", "run", "--name", "secret", "-e", "SECRET=hunter2", "--", "sh", "-c", "echo token=$SECRET"));

        result.ExitCode.Should().Be(0, result.ToString());
        var id = (await home.InspectAsync("secret")).GetProperty("id").GetString()!;
        File.GetUnixFileMode(home.Directory).Should().Be(Private(directory: true));
        File.GetUnixFileMode(Path.Combine(home.Directory, "boxes")).Should().Be(Private(directory: true));
        File.GetUnixFileMode(home.BoxDirectory(id)).Should().Be(Private(directory: true));
        foreach (var database in Directory.GetFiles(home.Directory, "boxlite.db*"))
        {
            File.GetUnixFileMode(database).Should().Be(Private(directory: false), database);
        }

        var (code, output) = await OtherUser.RunAsync(
            $"cat '{home.BoxDirectory(id)}/output.log' || cat '{home.Directory}/boxlite.db' || grep -r hunter2 '{home.Directory}' || exit 0; exit 1");
        code.Should().Be(0, $"nobody is kept out of the home: {output}");
        output.Should().NotContain("hunter2");
    }

    [Theory]
    [InlineData("trailing slash")]
    [InlineData("dot")]
    [InlineData("symbolic link")]
    public async Task Rm_force_through_another_spelling_of_the_home_reaps_every_process_and_the_cgroup(string spelling)
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome(derivedCgroupParent: true);
        var marker = HostProcesses.NewMarker();
        var id = (await Cli.CompleteAsync(home.Start("run", "-d", "--", "sh", "-c", $"sleep {marker} & sleep {marker} & (sleep {marker} &); wait")))
            .StdoutLines[^1];
        var processes = await WaitForAsync(() => HostProcesses.WithMarker(marker), p => p.Count == 3);
        var cgroup = HostProcesses.BoxCgroupOf(processes[0], id)!;
        home.AdoptCgroupParent(Path.GetFileName(Path.GetDirectoryName(cgroup))!);
        var link = home.Directory + "-link";
        File.CreateSymbolicLink(link, home.Directory);
        var spelled = spelling switch
        {
            "trailing slash" => home.Directory + "/",
            "dot" => home.Directory + "/./",
            _ => link,
        };

        try
        {
            var result = await Cli.CompleteAsync(home.StartAt(spelled, "rm", "-f", id));

            result.ExitCode.Should().Be(0, result.ToString());
            HostProcesses.WithMarker(marker).Should().BeEmpty("every process of the box was reaped");
            Directory.Exists(cgroup).Should().BeFalse("the box cgroup was removed");
            Directory.Exists(home.BoxDirectory(id)).Should().BeFalse();
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Fact]
    public async Task One_unreadable_record_is_listed_as_unknown_with_the_reason_never_blocks_the_home_and_rm_force_removes_it()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var marker = HostProcesses.NewMarker();
        var good = await home.RunDetachedAsync("--", "sleep", "300");
        var bad = await home.RunDetachedAsync("--", "sh", "-c", $"sleep {marker} & wait");
        await WaitForAsync(() => HostProcesses.WithMarker(marker), p => p.Count == 1);
        var cgroup = HostProcesses.BoxCgroupOf(HostProcesses.WithMarker(marker)[0], bad)!;
        Damage(home, bad);

        var listed = await home.RunAsync("ls");
        var removedGood = await home.RunAsync("rm", "-f", good);
        var ran = await home.RunAsync("run", "--rm", "--", "echo", "still-works");
        var removedBad = await home.RunAsync("rm", "-f", bad);

        listed.ExitCode.Should().Be(0, listed.ToString());
        listed.StdoutLines.Should().Contain(l => l.StartsWith(bad, StringComparison.Ordinal) && l.Contains(" unknown ", StringComparison.Ordinal));
        listed.StderrLines.Should().ContainSingle().Which.Should().Match($"{bad} is unknown: unreadable record: *; boxlite rm -f {bad} removes it");
        removedGood.ExitCode.Should().Be(0, removedGood.ToString());
        ran.ExitCode.Should().Be(0, ran.ToString());
        ran.StdoutLines.Should().Equal("still-works");
        removedBad.ExitCode.Should().Be(0, removedBad.ToString());
        (await home.ListAllAsync()).Should().BeEmpty();
        home.BoxDirectories.Should().BeEmpty();
        HostProcesses.WithMarker(marker).Should().BeEmpty("the unreadable box's process was reaped");
        Directory.Exists(cgroup).Should().BeFalse("its cgroup was removed");
    }

    private static UnixFileMode Private(bool directory) =>
        UnixFileMode.UserRead | UnixFileMode.UserWrite | (directory ? UnixFileMode.UserExecute : 0);

    /// <summary>Makes the options of <paramref name="id"/> invalid JSON, as a torn write or a hand edit could.</summary>
    private static void Damage(TestHome home, string id)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path.Combine(home.Directory, "boxlite.db"), Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE boxes SET options = '{\"command\":' WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        command.ExecuteNonQuery().Should().Be(1);
    }

    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done)
    {
        var until = DateTime.UtcNow + Cli.Deadline;
        var value = read();
        while (!done(value) && DateTime.UtcNow < until)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
            value = read();
        }

        done(value).Should().BeTrue($"the expected processes appeared within {Cli.Deadline}");
        return value;
    }
}
