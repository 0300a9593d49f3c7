namespace Boxlite.Cli.Tests;

public sealed class DoctorTests
{
    [Fact]
    public async Task Doctor_names_the_active_reaper_its_guarantee_and_that_it_is_built_in_and_each_capability()
    {
        TestHome.RequireLinux();
        await using var home = new TestHome();

        var result = await home.OkAsync("doctor");

        result.Stdout.Should().MatchRegex(@"reaper:\s+\S+ \(guarantee: (wholeTree|processGroup|singleProcess), built-in\)");
        foreach (var check in new[] { "cgroup v2", "cgroup.kill", "cgroup.freeze", "pidfd", "user namespaces", "bwrap", "unshare", "active reaper" })
        {
            result.Stdout.Should().Contain(check);
        }
    }

    [Fact]
    public async Task Doctor_json_gives_every_check_with_its_fix_when_missing()
    {
        TestHome.RequireLinux();
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "hiding a tool from doctor takes a private mount namespace (root)");
        await using var home = new TestHome();

        // A host without bubblewrap: doctor runs in a mount namespace of its own where /usr/bin/bwrap is not executable.
        var hidden = await Cli.CompleteAsync(Cli.Start(Cli.DllPath, ["--home", home.Directory, "--cgroup-parent", home.CgroupParent!, "doctor", "--json"],
            ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", "mount --bind /dev/null /usr/bin/bwrap && exec \"$@\"", "sh"]));

        hidden.ExitCode.Should().Be(0, hidden.ToString());
        var json = hidden.Json;
        json.GetProperty("platform").GetString().Should().Be("linux");
        json.GetProperty("home").GetString().Should().Be(home.Directory);
        json.GetProperty("reaper").GetString().Should().NotBeNullOrEmpty();
        json.GetProperty("customReaper").GetBoolean().Should().BeFalse("the CLI registers no reaper of its own");
        var checks = json.GetProperty("checks").EnumerateArray().ToList();
        var missing = checks.Where(c => !c.GetProperty("ok").GetBoolean() && !c.GetProperty("name").GetString()!.StartsWith("reaper ", StringComparison.Ordinal)).ToList();
        missing.Should().Contain(c => c.GetProperty("name").GetString() == "bwrap", "bwrap is missing on this host");
        missing.Should().AllSatisfy(c => c.GetProperty("fix").GetString().Should().NotBeNullOrEmpty($"{c} says how to fix it"));
        missing.Single(c => c.GetProperty("name").GetString() == "bwrap").GetProperty("fix").GetString().Should().Contain("apt-get install bubblewrap");
    }

    [Fact]
    public async Task Doctor_for_a_user_without_a_writable_cgroup_names_each_missing_piece_and_the_namespace_reaper()
    {
        TestHome.RequireLinux();
        await using var home = new TestHome();
        var json = (await home.OkAsync("doctor", "--json")).Json;
        var checks = json.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.SkipWhen(Environment.IsPrivilegedProcess || checks["box cgroups"].GetProperty("ok").GetBoolean(),
            "needs a user without a writable cgroup v2 (a login session without delegation); this process can make box cgroups");

        json.GetProperty("reaper").GetString().Should().Be("pidns-init");
        json.GetProperty("guarantee").GetString().Should().Be("wholeTree");
        foreach (var name in new[] { "box cgroups", "cgroup delegation", "memory limit", "cpu limit", "pids limit" })
        {
            var check = checks[name];
            check.GetProperty("ok").GetBoolean().Should().BeFalse($"{name} is missing");
            check.GetProperty("detail").GetString().Should().Contain(name == "cgroup delegation" ? "not delegated" : "no delegated cgroup");
            check.GetProperty("fix").GetString().Should().MatchRegex(name.EndsWith(" limit", StringComparison.Ordinal) ? "delegate the" : "Delegate=yes");
        }

        checks["reaper cgroup-kill"].GetProperty("ok").GetBoolean().Should().BeFalse();
        checks["reaper pidns-init"].GetProperty("ok").GetBoolean().Should().BeTrue();
        checks["active reaper"].GetProperty("detail").GetString().Should().StartWith("pidns-init (WholeTree, built-in)");
    }
}
