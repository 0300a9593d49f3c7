using System.Globalization;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Tests;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>A runtime of a user without root, run for real as <c>nobody</c> (through <c>setpriv</c>).</summary>
public sealed class NonRootTests
{
    private const string Setpriv = "/usr/bin/setpriv";

    private static readonly (int Uid, int Gid)? Nobody = File.ReadLines("/etc/passwd")
        .Select(l => l.Split(':'))
        .Where(f => f.Length > 3 && f[0] == "nobody")
        .Select(f => ((int Uid, int Gid)?)(int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture)))
        .FirstOrDefault();

    private static bool CanRunAsNobody =>
        Environment.UserName == "root" && File.Exists(Setpriv) && Nobody is not null && IsolationPlanner.UserNamespacesAllowed();

    private const string SkipReason = "needs root (to become nobody through setpriv), a nobody user, and user namespaces";

    [Theory]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task A_non_root_user_execs_into_its_namespaced_box_and_reaps_it(BoxIsolation isolation)
    {
        Assert.SkipUnless(CanRunAsNobody, SkipReason);
        var home = Path.Combine(Path.GetTempPath(), "boxlite-test-nonroot-" + Guid.NewGuid().ToString("N")[..12]);
        var marker = "m" + Guid.NewGuid().ToString("N");
        var (uid, gid) = Nobody!.Value;
        try
        {
            using var host = TestHostProcess.StartThrough(
                [Setpriv, $"--reuid={uid}", $"--regid={gid}", "--clear-groups"],
                new Dictionary<string, string> { ["BOX_MARKER"] = marker, ["HOME"] = home },
                "exec", home, isolation.ToString(), "/bin/sh", "-c", "ls /proc | grep -c '^[0-9]'");

            var (code, output, error) = await host.WaitAsync(TimeSpan.FromMinutes(2));

            code.Should().Be(0, $"the host reports: {output} {error}");
            output.Should().Contain("exit 0");

            // The box's own PID namespace holds a handful of processes; the host has far more.
            var count = output.Split('\n').Single(l => l.StartsWith("out ", StringComparison.Ordinal))["out ".Length..];
            int.Parse(count, CultureInfo.InvariantCulture).Should().BeLessThan(12);
            (await LinuxHome.EventuallyAsync(() => LinuxHome.Marked(marker).Count == 0, TimeSpan.FromSeconds(10)))
                .Should().BeTrue("the host removed its box, reaping it without root");
        }
        finally
        {
            // Whatever a failed run left: the processes carry this test's marker.
            foreach (var pid in LinuxHome.Marked(marker))
            {
                _ = Libc.kill(pid, LinuxSignals.Kill);
            }

            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
    }
}
