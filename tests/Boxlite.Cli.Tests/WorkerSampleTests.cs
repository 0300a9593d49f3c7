namespace Boxlite.Cli.Tests;

public sealed class WorkerSampleTests
{
    [Fact]
    public async Task The_worker_sample_runs_a_job_per_tick_and_leaves_no_box_after_shutdown()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();

        var result = await Cli.CompleteAsync(Cli.Start(Cli.WorkerSamplePath,
        [
            $"--Boxlite:HomeDirectory={home.Directory}", $"--Boxlite:Linux:CgroupParent={home.CgroupParent}",
            "--Ticks:Count=2", "--Ticks:Interval=00:00:00.200",
        ]));

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("Job 1 in box").And.Contain("Job 2 in box").And.Contain("Linux");
        (await home.RecordsAsync()).Should().BeEmpty("the sidecar is stopped at shutdown and the job boxes are removed");
    }
}
