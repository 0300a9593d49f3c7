using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Tests.Lifecycle;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.Adversarial;

/// <summary>
/// A box tried as an attacker (or an unlucky ordinary program) would: real boxes, real bubblewrap, real symlinks and
/// FIFOs planted by the box itself, a real inherited descriptor. Nothing a box does reaches what confines it.
/// </summary>
[Trait("Category", "AdversarialBox")]
public sealed class AdversarialBoxTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    // A root-only host file the box must never reach (outside /tmp, which bubblewrap replaces).
    private readonly string _victim = Path.Combine("/var/tmp", "boxlite-victim-" + Guid.NewGuid().ToString("N")[..12]);

    public AdversarialBoxTests()
    {
        File.WriteAllText(_victim, "secret\n");
        if (OperatingSystem.IsLinux())
        {
            File.SetUnixFileMode(_victim, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_bubblewrap_box_has_no_capability_and_cannot_remount_the_system_to_write_the_host()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && HasBwrap, LinuxHome.SkipReason + ", and bwrap");
        await using var home = new LinuxHome();

        var box = await home.Runtime.RunAsync(
            home.Sh($"grep CapEff /proc/self/status; mount -o remount,bind,rw / && echo remounted; echo escaped > {_victim}.escape && echo wrote; true", BoxIsolation.Bubblewrap),
            Token);
        await box.WaitAsync(Token).WaitAsync(Generous, Token);

        var output = await OutputAsync(box);
        output.Should().Contain("CapEff:\t0000000000000000").And.NotContain("remounted").And.NotContain("wrote");
        File.Exists(_victim + ".escape").Should().BeFalse();
    }

    [Fact]
    public async Task A_command_exec_d_into_a_bubblewrap_box_has_no_capability_either()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && HasBwrap, LinuxHome.SkipReason + ", and bwrap");
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("echo ready; exec sleep 1000", BoxIsolation.Bubblewrap), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        var result = await box.ExecAsync("/bin/sh", ["-c", "grep CapEff /proc/self/status; mount -o remount,bind,rw / && echo remounted"], Token).WaitAsync(Generous, Token);

        result.StandardOutput.Should().Contain("CapEff:\t0000000000000000").And.NotContain("remounted");
    }

    [Fact]
    public async Task A_bubblewrap_box_sees_neither_the_home_nor_its_own_control_files()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && HasBwrap, LinuxHome.SkipReason + ", and bwrap");

        // Outside /tmp, which bubblewrap replaces anyway.
        await using var home = new LinuxHome(parent: "/var/tmp");
        var other = await home.Runtime.RunAsync(home.Sh("echo other-box-secret; sleep 1000"), Token);
        await BoxWaits.ForLogLineAsync(other, "other-box-secret");

        var box = await home.Runtime.RunAsync(home.Sh($"ls -A {home.Home}; cat {home.Home}/boxlite.db {home.Home}/boxes/*/stdout.log; echo end", BoxIsolation.Bubblewrap), Token);
        await box.WaitAsync(Token).WaitAsync(Generous, Token);

        var output = await OutputAsync(box);
        output.Should().NotContain("other-box-secret").And.NotContain("SQLite").And.NotContain("boxlite.db").And.Contain("end");
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task Symlinks_the_box_plants_never_redirect_a_write_of_the_monitor(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && (isolation != BoxIsolation.Bubblewrap || HasBwrap), LinuxHome.SkipReason + ", and bwrap");
        await using var home = new LinuxHome();

        var box = await home.Runtime.RunAsync(
            home.Sh($"for f in exit.tmp exit stdout.log stderr.log host-gone monitor.log child.pid command.nspid; do ln -sf {_victim} $f; done; exit 3", isolation, detached: false),
            Token);

        (await box.WaitAsync(Token).WaitAsync(Generous, Token)).Should().Be(3);
        (await File.ReadAllTextAsync(_victim, Token)).Should().Be("secret\n");
    }

    [Fact]
    public async Task A_program_writing_files_named_like_control_files_keeps_its_real_exit_code_and_output()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var box = await home.Runtime.RunAsync(
            home.Sh("printf '0\\n\\n' > exit; echo payload > stdout.log; echo 1 > child.pid; echo host-gone > host-gone; sleep 1; echo real; exit 7", detached: false),
            Token);

        (await box.WaitAsync(Token).WaitAsync(Generous, Token)).Should().Be(7);
        (await box.RefreshAsync(Token)).KilledBy.Should().BeNull();
        (await OutputAsync(box)).Should().Be("real\n");
    }

    [Fact]
    public async Task Fifos_named_exit_and_child_pid_hang_neither_list_nor_stop_nor_remove_nor_another_run()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("mkfifo exit child.pid; echo ready; sleep 1000"), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        (await home.Runtime.ListAsync(Token).WaitAsync(Generous, Token)).Should().ContainSingle(b => b.State == BoxState.Running);
        await box.StopAsync(TimeSpan.FromSeconds(5), Token).WaitAsync(Generous, Token);
        await home.Runtime.RemoveAsync(box.Id.Value, cancellationToken: Token).WaitAsync(Generous, Token);
        var next = await home.Runtime.RunAsync(home.Sh("exit 4"), Token).WaitAsync(Generous, Token);

        (await next.WaitAsync(Token).WaitAsync(Generous, Token)).Should().Be(4);
    }

    [Fact]
    public async Task Control_files_replaced_by_fifos_are_unknown_to_list_and_stop_not_a_hang()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var box = await home.Runtime.RunAsync(home.Sh("echo ready; sleep 1000"), Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        // What a box without a file boundary (isolation None, same user) could do to its own control directory.
        foreach (var name in new[] { "exit", "child.pid" })
        {
            var path = Path.Combine(home.Runtime.DirectoryOf(box.Id), name);
            File.Delete(path);
            Boxlite.Runtime.Interop.Posix.mkfifo(path, 0x180).Should().Be(0);
        }

        (await home.Runtime.ListAsync(Token).WaitAsync(Generous, Token)).Should().ContainSingle(b => b.State == BoxState.Running);
        await box.StopAsync(TimeSpan.FromSeconds(1), Token).WaitAsync(Generous, Token);
        (await box.RefreshAsync(Token)).State.Should().Be(BoxState.Exited);
        await home.Runtime.RemoveAsync(box.Id.Value, cancellationToken: Token).WaitAsync(Generous, Token);
    }

    [Fact]
    public async Task A_directory_named_exit_hangs_neither_the_wait_nor_list_nor_remove()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var box = await home.Runtime.RunAsync(home.Sh("mkdir exit; exit 5", detached: false), Token);

        (await box.WaitAsync(Token).WaitAsync(Generous, Token)).Should().Be(5);
        (await home.Runtime.ListAsync(Token).WaitAsync(Generous, Token)).Should().ContainSingle(b => b.State == BoxState.Exited && b.ExitCode == 5);
        await home.Runtime.RemoveAsync(box.Id.Value, cancellationToken: Token).WaitAsync(Generous, Token);
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task No_descriptor_of_the_host_reaches_the_box(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && (isolation != BoxIsolation.Bubblewrap || HasBwrap), LinuxHome.SkipReason + ", and bwrap");
        await using var home = new LinuxHome();

        // An inheritable descriptor, as a shell's "exec 7<>file" leaves one to the host.
        var fd = Libc.open(_victim, Libc.O_WRONLY);
        fd.Should().BeGreaterThan(2);
        try
        {
            var box = await home.Runtime.RunAsync(home.Sh($"echo leaked > /proc/self/fd/{fd} && echo wrote; ls /proc/self/fd", isolation, detached: false), Token);
            await box.WaitAsync(Token).WaitAsync(Generous, Token);

            (await OutputAsync(box)).Should().NotContain("wrote");
            (await File.ReadAllTextAsync(_victim, Token)).Should().Be("secret\n");
        }
        finally
        {
            Libc.close(fd);
        }
    }

    [Theory]
    [InlineData("nosuchcmd", null)]
    [InlineData("/etc/passwd", null)]
    [InlineData("/tmp", null)]
    [InlineData("true", "/nonexistent")]
    [InlineData("true", "/etc/passwd")]
    public async Task A_command_that_cannot_run_is_refused_before_anything_exists(string command, string? workingDirectory)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var act = () => home.Runtime.CreateAsync(new BoxOptions { Command = command, WorkingDirectory = workingDirectory, Detached = true }, Token);

        await act.Should().ThrowAsync<InvalidBoxOptionsException>();
        (await home.Runtime.Store.ListAsync(Token)).Should().BeEmpty();
        Directory.EnumerateFileSystemEntries(Path.Combine(home.Home, "boxes")).Should().BeEmpty();
        home.ParentDirectories().Should().BeEmpty();
    }

    [Theory]
    [InlineData("A-B")]
    [InlineData("SPACE KEY")]
    [InlineData("1ABC")]
    [InlineData("A=B")]
    public async Task An_environment_name_a_shell_cannot_carry_is_refused_not_dropped(string name)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var act = () => home.Runtime.CreateAsync(home.Sh("true") with { Environment = new Dictionary<string, string> { [name] = "v" } }, Token);

        (await act.Should().ThrowAsync<InvalidBoxOptionsException>()).Which.Problems.Should().ContainSingle().Which.Should().Contain("shell identifier");
        (await home.Runtime.Store.ListAsync(Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_box_PATH_steers_its_command_lookup_and_nothing_of_the_machinery()
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var box = await home.Runtime.RunAsync(
            new BoxOptions { Command = "/bin/echo", Args = ["hi"], Environment = new Dictionary<string, string> { ["PATH"] = "/opt/nothing" } }, Token);

        (await box.WaitAsync(Token).WaitAsync(Generous, Token)).Should().Be(0);
        (await OutputAsync(box)).Should().Be("hi\n");
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task The_monitor_and_the_launcher_run_without_the_box_environment(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes && (isolation != BoxIsolation.Bubblewrap || HasBwrap), LinuxHome.SkipReason + ", and bwrap");
        await using var home = new LinuxHome();
        var options = home.Sh("echo ready; exec sleep 1000", isolation);
        var box = await home.Runtime.RunAsync(options with { Environment = new Dictionary<string, string>(options.Environment) { ["IFS"] = "x", ["ENV"] = "/nonexistent" } }, Token);
        await BoxWaits.ForLogLineAsync(box, "ready");

        // The launcher is the monitor's child: bwrap or unshare (with isolation None, the command itself).
        var machinery = new List<int> { box.Info.Monitor!.Pid };
        if (isolation != BoxIsolation.None)
        {
            machinery.Add(int.Parse(await File.ReadAllTextAsync(Path.Combine(home.Runtime.DirectoryOf(box.Id), "child.pid"), Token), System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var pid in machinery)
        {
            var environ = (await File.ReadAllTextAsync($"/proc/{pid}/environ", Token)).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            environ.Select(e => e[..e.IndexOf('=', StringComparison.Ordinal)]).Should().NotIntersectWith(["BOX_MARKER", "IFS", "ENV", "HOME"]);
            environ.Should().Contain("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        }

        home.CountMarked().Should().BeGreaterThan(0, "the command itself has the box's environment");
    }

    public void Dispose()
    {
        File.Delete(_victim);
        File.Delete(_victim + ".escape");
    }

    private static bool HasBwrap => File.Exists("/usr/bin/bwrap");

    private static async Task<string> OutputAsync(IBox box) =>
        string.Concat(await box.ReadLogsAsync(cancellationToken: Token).Where(l => l.Source == BoxLogSource.StandardOutput).Select(l => l.Text + "\n").ToListAsync(Token));
}
