using System.Globalization;
using Boxlite.Runtime.State;

namespace Boxlite.Runtime.TestHost;

/// <summary>
/// Drives one store hard, for running in several processes on one home at once: boxes are inserted (some
/// with names every process contends for), taken Created → Running → Stopping → Exited with compare-and-set
/// retries, touched by other processes, and deleted. Prints <c>ok inserted=N conflicts=N lost=N</c>.
/// </summary>
internal static class StoreHammer
{
    /// <summary>Boxes each process keeps alive at once, so names stay taken for a while.</summary>
    private const int Window = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 3 ||
            !int.TryParse(args[1], CultureInfo.InvariantCulture, out var iterations) ||
            !int.TryParse(args[2], CultureInfo.InvariantCulture, out var seed))
        {
            Console.Error.WriteLine("usage: hammer-store <home> <iterations> <seed>");
            return 2;
        }

        try
        {
            using var store = SqliteBoxStore.Open(args[0]);
            var counts = await Barrier.RunTogetherAsync(() => HammerAsync(store, iterations, seed));
            Console.WriteLine($"kept={counts.Kept} cas-retries={counts.CasRetries} touches={counts.Touches}");
            Console.WriteLine($"ok inserted={counts.Inserted} conflicts={counts.Conflicts} lost={counts.Lost}");
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"failed: {ex}");
            return 1;
        }
    }

    private static async Task<Counts> HammerAsync(SqliteBoxStore store, int iterations, int seed)
    {
        var random = new Random(seed);
        var counts = new Counts();
        var live = new Queue<BoxId>();
        for (var i = 0; i < iterations; i++)
        {
            await TouchAnyAsync(store, random, counts);

            var name = random.Next(3) switch
            {
                0 => $"shared-{random.Next(3)}",
                1 => $"p{seed}-{i}",
                _ => null,
            };
            var box = new BoxInfo
            {
                Id = BoxId.New(),
                Name = name,
                State = BoxState.Created,
                Options = new BoxOptions
                {
                    Command = "/bin/true",
                    Args = [i.ToString(CultureInfo.InvariantCulture)],
                    Name = name,
                    Environment = new Dictionary<string, string> { ["SEED"] = seed.ToString(CultureInfo.InvariantCulture) },
                },
                CreatedAt = DateTimeOffset.UtcNow,
            };

            try
            {
                await store.InsertAsync(box);
                counts.Inserted++;
            }
            catch (BoxNameConflictException)
            {
                counts.Conflicts++;
                continue;
            }

            foreach (var target in (BoxState[])[BoxState.Starting, BoxState.Running, BoxState.Stopping, BoxState.Exited])
            {
                if (!await AdvanceAsync(store, box.Id, target, counts))
                {
                    counts.Lost++;
                    break;
                }
            }

            live.Enqueue(box.Id);
            if (live.Count > Window && !await DeleteAsync(store, live.Dequeue(), counts))
            {
                counts.Lost++;
            }
        }

        counts.Kept = live.Count;
        return counts;
    }

    /// <summary>Moves a box to <paramref name="target"/>, retrying when another process changed it first.</summary>
    private static async Task<bool> AdvanceAsync(SqliteBoxStore store, BoxId id, BoxState target, Counts counts)
    {
        while (true)
        {
            var current = await store.GetAsync(id);
            if (current is null)
            {
                return false;
            }

            var next = target switch
            {
                BoxState.Running => current with
                {
                    State = target,
                    StartedAt = DateTimeOffset.UtcNow,
                    Monitor = new ProcessIdentity(Environment.ProcessId, 1000 + counts.Inserted, "hammer-boot"),
                    Owner = new ProcessIdentity(Environment.ProcessId, 1, "hammer-boot"),
                    Reaper = "hammer",
                },
                BoxState.Exited => current with { State = target, FinishedAt = DateTimeOffset.UtcNow, ExitCode = 0 },
                _ => current with { State = target },
            };
            if (await store.TryUpdateAsync(next) is not null)
            {
                return true;
            }

            counts.CasRetries++;
        }
    }

    private static async Task<bool> DeleteAsync(SqliteBoxStore store, BoxId id, Counts counts)
    {
        while (true)
        {
            var current = await store.GetAsync(id);
            if (current is null)
            {
                return false;
            }

            if (await store.TryDeleteAsync(id, current.Version))
            {
                return true;
            }

            counts.CasRetries++;
        }
    }

    /// <summary>Changes some box without changing its state (often another process's), to contend for versions.</summary>
    private static async Task TouchAnyAsync(SqliteBoxStore store, Random random, Counts counts)
    {
        var boxes = await store.ListAsync();
        if (boxes.Count == 0)
        {
            return;
        }

        var box = boxes[random.Next(boxes.Count)];
        if (await store.TryUpdateAsync(box with { StatusReason = $"touched by {Environment.ProcessId}" }) is not null)
        {
            counts.Touches++;
        }
    }

    private sealed class Counts
    {
        public int Inserted { get; set; }

        public int Conflicts { get; set; }

        public int Lost { get; set; }

        public int CasRetries { get; set; }

        public int Touches { get; set; }

        public int Kept { get; set; }
    }
}
