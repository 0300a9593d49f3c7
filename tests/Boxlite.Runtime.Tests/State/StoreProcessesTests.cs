using System.Globalization;
using System.Text.RegularExpressions;

namespace Boxlite.Runtime.Tests.State;

public sealed partial class StoreProcessesTests : IDisposable
{
    private const int Iterations = 300;
    private readonly StoreHome _home = new();

    public void Dispose() => _home.Dispose();

    [Fact]
    public async Task Two_processes_hammering_one_home_lose_nothing_and_leave_a_consistent_store()
    {
        var home = Path.Combine(_home.Path, "shared");
        using var first = TestHostProcess.Start("hammer-store", home, Iterations.ToString(CultureInfo.InvariantCulture), "1");
        using var second = TestHostProcess.Start("hammer-store", home, Iterations.ToString(CultureInfo.InvariantCulture), "2");
        await TestHostProcess.ReleaseTogetherAsync(TimeSpan.FromMinutes(3), first, second);

        var results = await Task.WhenAll(first.WaitAsync(TimeSpan.FromMinutes(3)), second.WaitAsync(TimeSpan.FromMinutes(3)));

        var counts = results.Select(r =>
        {
            r.ExitCode.Should().Be(0, r.Error);
            return Counts(r.Output);
        }).ToList();
        counts.Should().AllSatisfy(c =>
        {
            c["lost"].Should().Be(0);
            (c["inserted"] + c["conflicts"]).Should().Be(Iterations);
        });
        TestHostProcess.Overlapped(results[0].Output, results[1].Output).Should().BeTrue("the two processes hammer the store at the same time");
        counts.Sum(c => c["conflicts"]).Should().BePositive("both processes contend for the same few names");

        using var shared = new StoreHome(home);
        shared.Query("PRAGMA integrity_check").Should().Be("ok");
        using var store = shared.Open();
        var boxes = await store.ListAsync(TestContext.Current.CancellationToken);
        boxes.Should().HaveCount(counts.Sum(c => c.GetValueOrDefault("kept")));
        boxes.Where(b => b.Name is not null).Select(b => b.Name).Should().OnlyHaveUniqueItems();
        boxes.Should().AllSatisfy(b =>
        {
            b.State.Should().Be(BoxState.Exited);
            b.Version.Should().BeGreaterThanOrEqualTo(4, "insert and three transitions each add a version");
            b.Monitor.Should().NotBeNull();
            b.FinishedAt.Should().NotBeNull();
            b.Options.Name.Should().Be(b.Name);
        });
    }

    /// <summary>Every <c>key=number</c> the host printed.</summary>
    private static Dictionary<string, int> Counts(string output)
    {
        output.Should().MatchRegex(@"(?m)^ok inserted=\d+ conflicts=\d+ lost=\d+$");
        return CountPattern().Matches(output).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"([a-z-]+)=(\d+)")]
    private static partial Regex CountPattern();
}
