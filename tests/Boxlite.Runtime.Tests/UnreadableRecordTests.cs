using Boxlite.Runtime.State;
using Boxlite.Runtime.Tests.Fakes;
using Boxlite.Runtime.Tests.State;

namespace Boxlite.Runtime.Tests;

/// <summary>One record the store cannot read (here: its options are not JSON) never blocks the rest of its home.</summary>
[Trait("Category", "AdversarialBox")]
public sealed class UnreadableRecordTests : IAsyncDisposable
{
    private readonly StoreHome _home = new();
    private readonly FakePlatform _platform = new();
    private readonly BoxRuntime _runtime;

    public UnreadableRecordTests() =>
        _runtime = new BoxRuntime(new BoxliteOptions { HomeDirectory = _home.Path }, SqliteBoxStore.Open(_home.Path), _platform, ownsStore: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        foreach (var box in await _runtime.ListAsync())
        {
            await _runtime.RemoveAsync(box.Id.Value, force: true);
        }

        await _runtime.DisposeAsync();
        _home.Dispose();
    }

    [Fact]
    public async Task The_home_keeps_working_and_remove_with_force_takes_the_unreadable_box_its_processes_and_its_directory()
    {
        var good = await _runtime.RunAsync(RuntimeFixture.Sh("sleep 300"), Ct);
        var bad = await _runtime.RunAsync(RuntimeFixture.Sh("sleep 300"), Ct);
        var badGroup = bad.Info.Monitor!.Pid;
        _home.Execute($"UPDATE boxes SET options = '{{' WHERE id = '{bad.Id}'");

        var listed = await _runtime.ListAsync(Ct);
        await _runtime.RecoverAsync(Ct);
        var handle = await _runtime.GetAsync(bad.Id.Value, Ct);
        await _runtime.RemoveAsync(good.Id.Value, force: true, Ct);
        var another = await _runtime.RunAsync(RuntimeFixture.Sh("exit 3"), Ct);
        (await another.WaitAsync(Ct)).Should().Be(3);
        await _runtime.RemoveAsync(bad.Id.Value, force: true, Ct);

        listed.Should().HaveCount(2);
        listed.Single(b => b.Id == bad.Id).Should().Match<BoxInfo>(b => b.State == BoxState.Unknown && b.StatusReason!.StartsWith("unreadable record: "));
        handle.Info.State.Should().Be(BoxState.Unknown);
        (await _runtime.ListAsync(Ct)).Select(b => b.Id).Should().Equal(another.Id);
        Directory.Exists(Path.Combine(_home.Path, "boxes", bad.Id.Value)).Should().BeFalse();
        Posix.GroupMembers(badGroup).Should().BeEmpty("the unreadable box's processes were reaped");
    }

    [Fact]
    public async Task Remove_without_force_and_stop_refuse_an_unreadable_box_and_leave_it_as_it_is()
    {
        var bad = await _runtime.CreateAsync(RuntimeFixture.Sh("true"), Ct);
        _home.Execute($"UPDATE boxes SET state = 'Sideways' WHERE id = '{bad.Id}'");

        var remove = () => _runtime.RemoveAsync(bad.Id.Value, force: false, Ct);
        var stop = async () => await (await _runtime.GetAsync(bad.Id.Value, Ct)).StopAsync(TimeSpan.Zero, Ct);

        await remove.Should().ThrowAsync<InvalidBoxStateException>();
        await stop.Should().ThrowAsync<InvalidBoxStateException>();
        _home.Query($"SELECT state FROM boxes WHERE id = '{bad.Id}'").Should().Be("Sideways");
    }
}
