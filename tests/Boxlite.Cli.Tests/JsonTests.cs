using System.Text.Json;

namespace Boxlite.Cli.Tests;

public sealed class JsonTests
{
    [Fact]
    public async Task Ls_json_lists_live_boxes_by_default_and_every_box_with_all()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var live = await home.RunDetachedAsync("--", "sleep", "300");
        await home.OkAsync("run", "--name", "done", "--", "true");

        var running = (await home.OkAsync("ls", "--json")).Json;
        var all = await home.ListAllAsync();

        running.ValueKind.Should().Be(JsonValueKind.Array);
        running.EnumerateArray().Select(b => b.GetProperty("id").GetString()).Should().Equal([live], $"only the live box is listed: {running}");
        all.Select(b => b.GetProperty("state").GetString()).Should().BeEquivalentTo(["running", "exited"], $"ls -a lists both: {string.Join(", ", all)}");
    }

    [Fact]
    public async Task Inspect_json_prints_one_object_with_the_documented_fields()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--name", "web", "--memory", "64m", "--pids-limit", "50", "--stop-signal", "sigint", "--", "sleep", "300");

        var box = await home.InspectAsync(id);

        box.ValueKind.Should().Be(JsonValueKind.Object);
        box.GetProperty("id").GetString().Should().Be(id);
        box.GetProperty("name").GetString().Should().Be("web");
        box.GetProperty("state").GetString().Should().Be("running");
        box.GetProperty("exitCode").ValueKind.Should().Be(JsonValueKind.Null);
        box.GetProperty("pid").GetInt32().Should().BePositive();
        box.GetProperty("createdAt").GetDateTimeOffset().Should().BeBefore(DateTimeOffset.UtcNow.AddMinutes(1));
        box.GetProperty("detached").GetBoolean().Should().BeTrue();
        box.GetProperty("isolation").GetString().Should().Be("none");
        box.GetProperty("reaper").GetString().Should().NotBeNullOrEmpty();
        box.GetProperty("command").GetString().Should().Be("sleep");
        box.GetProperty("args").EnumerateArray().Select(a => a.GetString()).Should().Equal("300");
        box.GetProperty("startedAt").ValueKind.Should().Be(JsonValueKind.String);
        box.GetProperty("finishedAt").ValueKind.Should().Be(JsonValueKind.Null);
        box.GetProperty("killedBy").ValueKind.Should().Be(JsonValueKind.Null);
        box.GetProperty("statusReason").ValueKind.Should().Be(JsonValueKind.Null);
        box.GetProperty("stopSignal").GetString().Should().Be("INT");
        box.GetProperty("limits").GetProperty("memoryBytes").GetInt64().Should().Be(64L * 1024 * 1024);
        box.GetProperty("limits").GetProperty("pidsMax").GetInt32().Should().Be(50);
    }

    [Fact]
    public async Task A_box_is_found_by_name_and_by_a_unique_id_prefix()
    {
        await TestHome.RequireBoxesAsync();
        await using var home = new TestHome();
        var id = await home.RunDetachedAsync("--name", "findme", "--", "sleep", "300");

        (await home.InspectAsync("findme")).GetProperty("id").GetString().Should().Be(id);
        (await home.InspectAsync(id[..6])).GetProperty("id").GetString().Should().Be(id);
    }
}
