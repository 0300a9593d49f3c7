namespace Boxlite.Runtime.Tests.Fakes;

/// <summary>A runtime on a temporary home with the fake platform; removes every box and the home when disposed.</summary>
internal sealed class RuntimeFixture : IAsyncDisposable
{
    public RuntimeFixture(Action<BoxliteOptions>? configure = null, TimeProvider? time = null)
    {
        Home = Path.Combine(Path.GetTempPath(), "boxlite-test-" + Guid.NewGuid().ToString("N")[..12]);
        Options = new BoxliteOptions { HomeDirectory = Home, DefaultStopTimeout = TimeSpan.FromSeconds(5), ReapTimeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(Options);
        Platform = new FakePlatform(Path.Combine(Options.HomeDirectory, "boxes"));
        Runtime = new BoxRuntime(Options, Store, Platform, time);
    }

    public string Home { get; }

    public BoxliteOptions Options { get; }

    public InMemoryBoxStore Store { get; } = new();

    public FakePlatform Platform { get; }

    public BoxRuntime Runtime { get; }

    public string DirectoryOf(BoxId id) => Path.Combine(Home, "boxes", id.Value);

    public static BoxOptions Sh(string script, bool detached = true) =>
        new() { Command = "/bin/sh", Args = ["-c", script], Detached = detached };

    public async ValueTask DisposeAsync()
    {
        Platform.Behaviour = FakeReaperBehaviour.Normal;
        foreach (var box in await Store.ListAsync())
        {
            try
            {
                await Runtime.RemoveAsync(box.Id.Value, force: true);
            }
            catch (BoxliteException)
            {
            }
        }

        await Runtime.DisposeAsync();
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
