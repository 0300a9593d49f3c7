namespace Boxlite.Cli.Tests;

public sealed class DoctorTests
{
    [Fact]
    public async Task Doctor_names_the_active_reaper_and_its_guarantee_and_each_capability()
    {
        TestHome.RequireLinux();
        await using var home = new TestHome();

        var result = await home.OkAsync("doctor");

        result.Stdout.Should().MatchRegex(@"reaper:\s+\S+ \(guarantee: (wholeTree|processGroup|singleProcess)\)");
        foreach (var check in new[] { "cgroup v2", "cgroup.kill", "cgroup.freeze", "pidfd", "user namespaces", "bwrap", "unshare", "active reaper" })
        {
            result.Stdout.Should().Contain(check);
        }
    }

    [Fact]
    public async Task Doctor_json_gives_every_check_with_its_fix_when_missing()
    {
        TestHome.RequireLinux();
        await using var home = new TestHome();

        var json = (await home.OkAsync("doctor", "--json")).Json;

        json.GetProperty("platform").GetString().Should().Be("linux");
        json.GetProperty("home").GetString().Should().Be(home.Directory);
        json.GetProperty("reaper").GetString().Should().NotBeNullOrEmpty();
        var checks = json.GetProperty("checks").EnumerateArray().ToList();
        checks.Should().NotBeEmpty();
        foreach (var missing in checks.Where(c => !c.GetProperty("ok").GetBoolean() && !c.GetProperty("name").GetString()!.StartsWith("reaper ", StringComparison.Ordinal)))
        {
            missing.GetProperty("fix").GetString().Should().NotBeNullOrEmpty($"{missing} says how to fix it");
        }
    }
}
