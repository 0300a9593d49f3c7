using Boxlite.Runtime.State;

namespace Boxlite.Runtime.Tests.Fakes;

/// <summary>A store with the same compare-and-set rules as the real one, kept in memory.</summary>
internal sealed class InMemoryBoxStore : IBoxStore
{
    private readonly Dictionary<BoxId, BoxInfo> _boxes = [];
    private readonly Lock _gate = new();

    public string Location => "memory";

    /// <summary>Updates it refuses, as a store that cannot write: they throw <see cref="BoxStoreException"/>.</summary>
    public Func<BoxInfo, bool>? FailWrites { get; set; }

    public Task<BoxInfo> InsertAsync(BoxInfo box, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (box.Name is not null && _boxes.Values.Any(b => b.Name == box.Name))
            {
                throw new BoxNameConflictException(box.Name);
            }

            var stored = box with { Version = 1 };
            _boxes.Add(box.Id, stored);
            return Task.FromResult(stored);
        }
    }

    public Task<BoxInfo?> GetAsync(BoxId id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_boxes.GetValueOrDefault(id));
        }
    }

    public Task<BoxInfo?> GetByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_boxes.Values.FirstOrDefault(b => b.Name == name));
        }
    }

    public Task<IReadOnlyList<BoxInfo>> FindByIdPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<BoxInfo>>(_boxes.Values.Where(b => b.Id.Value.StartsWith(prefix, StringComparison.Ordinal)).ToList());
        }
    }

    public Task<IReadOnlyList<BoxInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<BoxInfo>>(_boxes.Values.OrderBy(b => b.CreatedAt).ToList());
        }
    }

    public Task<BoxInfo?> TryUpdateAsync(BoxInfo updated, CancellationToken cancellationToken = default)
    {
        if (FailWrites?.Invoke(updated) == true)
        {
            throw new BoxStoreException(Location, "the write failed");
        }

        lock (_gate)
        {
            if (!_boxes.TryGetValue(updated.Id, out var current) || current.Version != updated.Version)
            {
                return Task.FromResult<BoxInfo?>(null);
            }

            if (current.State != updated.State)
            {
                BoxStateMachine.EnsureTransition(updated.Id, current.State, updated.State);
            }

            var stored = updated with { Version = current.Version + 1 };
            _boxes[updated.Id] = stored;
            return Task.FromResult<BoxInfo?>(stored);
        }
    }

    public Task<bool> TryDeleteAsync(BoxId id, long expectedVersion, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_boxes.TryGetValue(id, out var current) && current.Version == expectedVersion && _boxes.Remove(id));
        }
    }

    /// <summary>Writes a record as it is, bypassing the rules (to stage recovery scenarios).</summary>
    public void Put(BoxInfo box)
    {
        lock (_gate)
        {
            _boxes[box.Id] = box;
        }
    }

    public void Dispose()
    {
    }
}
