using System.Collections.Concurrent;

namespace Boxlite.Runtime;

/// <summary>
/// At most one operation per box at a time in this process: a caller arriving while one is under way joins it and gets
/// its result. The operation runs on its own, detached from every caller's cancellation; a caller may only hurry it.
/// </summary>
internal sealed class InFlight<T>(BackgroundWork work)
{
    private readonly ConcurrentDictionary<BoxId, Operation> _running = new();

    /// <summary>True while an operation for <paramref name="id"/> is under way.</summary>
    public bool IsRunning(BoxId id) => _running.ContainsKey(id);

    /// <summary>Joins the operation under way for <paramref name="id"/>, or starts <paramref name="run"/> (given the hurry token).</summary>
    /// <exception cref="ObjectDisposedException">The runtime is closed.</exception>
    public Operation RunOrJoin(BoxId id, Func<CancellationToken, Task<T>> run)
    {
        while (true)
        {
            if (_running.TryGetValue(id, out var existing))
            {
                return existing;
            }

            var operation = new Operation();
            if (!_running.TryAdd(id, operation))
            {
                continue;
            }

            if (!work.TryStart(() => RunAsync(id, operation, run)))
            {
                _running.TryRemove(new KeyValuePair<BoxId, Operation>(id, operation));
                throw new ObjectDisposedException(nameof(BoxRuntime));
            }

            return operation;
        }
    }

    private async Task RunAsync(BoxId id, Operation operation, Func<CancellationToken, Task<T>> run)
    {
        T result = default!;
        Exception? failure = null;
        try
        {
            result = await run(operation.HurryToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }

        // Gone from the table before its result is out: a later caller starts afresh instead of taking a stale result.
        _running.TryRemove(new KeyValuePair<BoxId, Operation>(id, operation));
        operation.Complete(result, failure);
    }

    /// <summary>One operation under way, shared by the callers that joined it.</summary>
    internal sealed class Operation : IDisposable
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _hurry = new();

        public Task<T> Task => _done.Task;

        public CancellationToken HurryToken => _hurry.Token;

        /// <summary>Asks the operation to skip what it may skip (a stop's grace period).</summary>
        public void Hurry()
        {
            try
            {
                _hurry.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already done.
            }
        }

        public void Dispose() => _hurry.Dispose();

        internal void Complete(T result, Exception? failure)
        {
            Dispose();
            if (failure is null)
            {
                _done.SetResult(result);
            }
            else
            {
                _done.SetException(failure);
            }
        }
    }
}

/// <summary>
/// Work this runtime does on its own (exit watchers, shared operations): counted, so that closing the runtime waits for
/// the work at hand and starts no new work that would find the store closed.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly Lock _gate = new();
    private int _active;
    private bool _closed;
    private TaskCompletionSource? _idle;

    /// <summary>Starts <paramref name="work"/> unless closed; false when closed.</summary>
    public bool TryStart(Func<Task> work)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _active++;
        }

        _ = RunAsync(work);
        return true;
    }

    /// <summary>Refuses new work and completes once the work at hand is done.</summary>
    public Task CloseAsync()
    {
        lock (_gate)
        {
            _closed = true;
            if (_active == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    private async Task RunAsync(Func<Task> work)
    {
        try
        {
            await Task.Yield();
            await work().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Background work reports through its own result; nothing may escape as an unobserved failure.
        }
        finally
        {
            lock (_gate)
            {
                if (--_active == 0 && _closed)
                {
                    _idle?.TrySetResult();
                }
            }
        }
    }
}
