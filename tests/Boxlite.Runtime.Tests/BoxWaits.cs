namespace Boxlite.Runtime.Tests;

/// <summary>Waiting on what a box shows, with generous deadlines (never a timing assertion).</summary>
internal static class BoxWaits
{
    /// <summary>Waits until a line equal to <paramref name="text"/> is in the box's log.</summary>
    public static async Task ForLogLineAsync(IBox box, string text)
    {
        var token = TestContext.Current.CancellationToken;
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            if (await box.ReadLogsAsync(cancellationToken: token).AnyAsync(l => l.Text == text, token))
            {
                return;
            }

            await Task.Delay(10, token);
        }

        throw new TimeoutException($"'{text}' never appeared in the log of {box.Id}");
    }
}
