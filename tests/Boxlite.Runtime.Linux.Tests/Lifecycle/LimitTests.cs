using Boxlite.Runtime.Linux.Cgroups;

namespace Boxlite.Runtime.Linux.Tests.Lifecycle;

/// <summary>Limits bind the box's command, never its monitor; a limit the host cannot honour is refused, never bent.</summary>
public sealed class LimitTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1, null)]
    [InlineData(null, 4L << 20)]
    public async Task A_pids_limit_of_one_or_a_4_MiB_memory_limit_runs_bin_echo(int? pids, long? memory)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var output = await RunEchoAsync(home, BoxIsolation.None, new BoxLimits { PidsMax = pids, MemoryBytes = memory });

        output.Should().Equal("hi");
    }

    [Theory]
    [InlineData(BoxIsolation.None)]
    [InlineData(BoxIsolation.PidNamespace)]
    [InlineData(BoxIsolation.Bubblewrap)]
    public async Task The_smallest_limits_accepted_run_bin_echo_under_each_isolation(BoxIsolation isolation)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();
        var limits = new BoxLimits
        {
            PidsMax = BoxCgroups.MinimumPids(isolation),
            MemoryBytes = BoxCgroups.MinimumMemoryBytes(isolation),
            Cpus = BoxCgroups.MinimumCpus,
        };

        var output = await RunEchoAsync(home, isolation, limits);

        output.Should().Equal("hi");
    }

    [Theory]
    [InlineData(BoxIsolation.None, 0.0000001, null, null, "0.01 CPUs")]
    [InlineData(BoxIsolation.None, null, 4096L, null, "1048576 bytes")]
    [InlineData(BoxIsolation.PidNamespace, null, null, 1, "the 3 a box with isolation PidNamespace needs")]
    [InlineData(BoxIsolation.Bubblewrap, null, null, 2, "the 3 a box with isolation Bubblewrap needs")]
    public async Task A_limit_below_the_minimum_is_refused_naming_it_before_anything_is_created(
        BoxIsolation isolation, double? cpus, long? memory, int? pids, string minimum)
    {
        Assert.SkipUnless(LinuxHome.CanRunBoxes, LinuxHome.SkipReason);
        await using var home = new LinuxHome();

        var act = () => home.Runtime.CreateAsync(Echo(home, isolation) with { Limits = new BoxLimits { Cpus = cpus, MemoryBytes = memory, PidsMax = pids } }, Token);

        await act.Should().ThrowAsync<InvalidBoxOptionsException>().WithMessage($"*{minimum}*");
        (await home.Runtime.Store.ListAsync(Token)).Should().BeEmpty();
        Directory.EnumerateDirectories(home.Runtime.BoxesDirectory).Should().BeEmpty();
        home.LeftoverCgroups().Should().BeEmpty();
    }

    private static BoxOptions Echo(LinuxHome home, BoxIsolation isolation) =>
        home.Sh("", isolation) with { Command = "/bin/echo", Args = ["hi"] };

    private static async Task<List<string>> RunEchoAsync(LinuxHome home, BoxIsolation isolation, BoxLimits limits)
    {
        var box = await home.Runtime.RunAsync(Echo(home, isolation) with { Limits = limits }, Token);
        var code = await box.WaitAsync(Token);
        var lines = await box.ReadLogsAsync(cancellationToken: Token).Select(l => l.Text).ToListAsync(Token);
        code.Should().Be(0, $"the command runs within its limits (logs: {string.Join(" | ", lines)})");
        return lines;
    }
}
