using Microsoft.Extensions.Time.Testing;

namespace Boxlite.Runtime.Tests;

public sealed class LogTailTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _file = Path.Combine(Path.GetTempPath(), "boxlite-logtail-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task A_follow_ends_as_soon_as_the_writer_finishes_without_waiting_for_its_next_poll()
    {
        await File.WriteAllTextAsync(_file, "first\nlast", TestContext.Current.CancellationToken);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new FakeTimeProvider(); // never advanced: only the writer finishing can end the wait
        var lines = new List<string>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var follow = Task.Run(
            async () =>
            {
                await foreach (var line in new LogTail(_file, BoxLogSource.StandardOutput).ReadAsync(finished.Task, stopped, TestContext.Current.CancellationToken))
                {
                    lines.Add(line.Text);
                    first.TrySetResult();
                }
            },
            TestContext.Current.CancellationToken);
        await first.Task.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        finished.SetResult();

        await follow.WaitAsync(Deadline, TestContext.Current.CancellationToken);
        lines.Should().Equal("first", "last");
    }

    public void Dispose() => File.Delete(_file);
}
