using Boxlite.Runtime.Launch;
using System.Diagnostics;
using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Linux.Monitor;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>How the compiled monitor gets into a home: once per content, owner-only, never a file found there by chance.</summary>
public sealed class MonitorBinaryTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("boxlite-monitor-binary-test-").FullName;

    [Fact]
    public void It_is_installed_once_owner_only_and_found_again_by_its_content()
    {
        var path = MonitorBinary.Install(_home);
        var marked = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, marked);

        MonitorBinary.Install(_home).Should().Be(path);

        Path.GetDirectoryName(path).Should().Be(Path.Combine(_home, MonitorBinary.DirectoryName));
        PosixFiles.LStat(path)!.Value.Permissions.Should().Be("0700");
        File.GetLastWriteTimeUtc(path).Should().Be(marked, "the file already there was reused");
    }

    [Fact]
    [Trait("Category", "AdversarialBox")]
    public void A_different_file_under_its_name_is_replaced_before_anything_runs_it()
    {
        var path = MonitorBinary.Install(_home);
        File.WriteAllText(path, "#!/bin/sh\ntouch planted-ran\n");

        MonitorBinary.Install(_home).Should().Be(path);

        File.ReadAllBytes(path).Should().Equal(MonitorBinary.For(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture));
    }

    [Fact]
    public void A_home_on_a_noexec_mount_is_refused_with_the_fix()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && PosixFiles.EffectiveUserId == 0, "mounting a noexec tmpfs needs root");
        var mount = Path.Combine(_home, "noexec");
        Directory.CreateDirectory(mount);
        Run("/bin/mount", "-t", "tmpfs", "-o", "noexec,mode=0700", "tmpfs", mount).Should().Be(0);
        try
        {
            var install = () => MonitorBinary.Install(mount);

            install.Should().Throw<PlatformCapabilityException>().Which.Fix.Should().Contain("noexec");
        }
        finally
        {
            Run("/bin/umount", mount).Should().Be(0);
        }
    }

    [Fact]
    public async Task A_monitor_still_open_for_writing_somewhere_starts_once_that_writer_closes_it()
    {
        // Another thread's fork keeps a copy of an installer's write descriptor until it execs: the kernel then refuses
        // to run the file (ETXTBSY) for that moment. Here this process holds the writer itself, and lets it go soon.
        var path = MonitorBinary.Install(_home);
        var writer = new FileStream(path, FileMode.Open, FileAccess.Write);
        var token = TestContext.Current.CancellationToken;
        var release = Task.Run(
            async () =>
            {
                await Task.Delay(50, token);
                await writer.DisposeAsync();
            },
            token);

        using var child = ChildProcess.Start([path], new Dictionary<string, string>(), _home, newSession: false, redirectInput: false);
        (await child.Exited.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken)).Should().Be(125, "the monitor ran, and refused no arguments");
        await release;
    }

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static int Run(params string[] argv)
    {
        using var process = Process.Start(argv[0], argv[1..])!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
