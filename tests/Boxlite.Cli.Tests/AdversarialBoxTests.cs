using System.Diagnostics;

namespace Boxlite.Cli.Tests;

/// <summary>The box boundary as the built <c>boxlite</c> shows it: bad commands refused, no host descriptor in a box.</summary>
[Trait("Category", "AdversarialBox")]
public sealed class AdversarialBoxTests
{
    [Theory]
    [InlineData("run", "--", "nosuchcmd")]
    [InlineData("run", "--", "/etc/passwd")]
    [InlineData("run", "--", "/tmp")]
    [InlineData("run", "-w", "/nonexistent", "--", "true")]
    [InlineData("run", "-d", "--", "nosuchcmd")]
    [InlineData("run", "-e", "A-B=1", "--", "true")]
    [InlineData("run", "-e", "SPACE KEY=v", "--", "true")]
    public async Task A_box_that_could_not_run_as_asked_is_refused_with_one_line_and_leaves_nothing(params string[] args)
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync(args);

        result.ExitCode.Should().Be(1, result.ToString());
        result.Stdout.Should().BeEmpty();
        result.StderrLines.Should().ContainSingle().Which.Should().StartWith("boxlite: ");
        (await home.ListAllAsync()).Should().BeEmpty();
        home.BoxDirectories.Should().BeEmpty();
        Directory.Exists(Path.Combine("/sys/fs/cgroup/unified", home.CgroupParent!)).Should().BeFalse();
        Directory.Exists(Path.Combine("/sys/fs/cgroup", home.CgroupParent!)).Should().BeFalse();
    }

    [Fact]
    public async Task A_box_PATH_that_lacks_every_tool_still_runs_a_command_given_by_path()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await home.RunAsync("run", "-e", "PATH=/opt/nothing", "--", "/bin/echo", "hi");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StdoutLines.Should().Equal("hi");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("pid")]
    [InlineData("bwrap")]
    public async Task A_descriptor_the_caller_left_open_does_not_reach_the_box(string isolation)
    {
        await TestHome.RequireBoxesAsync();
        Assert.SkipWhen(isolation == "bwrap" && !File.Exists("/usr/bin/bwrap"), "bwrap is not installed");
        await using var home = new TestHome();
        var file = Path.Combine("/var/tmp", "boxlite-fd-" + Guid.NewGuid().ToString("N")[..12]);
        await File.WriteAllTextAsync(file, "", TestContext.Current.CancellationToken);
        try
        {
            // (exec 7<>FILE; boxlite run --isolation ISOLATION -- sh -c 'echo x >&7')
            var result = await Cli.CompleteAsync(StartWithDescriptor7(file, home,
                "run", "--isolation", isolation, "--", "sh", "-c", "echo x >&7 && echo wrote"));

            result.StdoutLines.Should().NotContain("wrote", result.ToString());
            (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Should().BeEmpty();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Process StartWithDescriptor7(string file, TestHome home, params string[] args)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("BOXLITE_HOME");
        string[] argv = ["-c", "exec 7<>\"$0\"; exec \"$@\"", file, Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Cli.DllPath,
            "--home", home.Directory, "--cgroup-parent", home.CgroupParent!, .. args];
        foreach (var arg in argv)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("sh did not start");
        process.StandardInput.Close();
        return process;
    }
}
