using System.Globalization;
using System.Runtime.InteropServices;
using Boxlite.Runtime;
using Boxlite.Runtime.Platform;

namespace Boxlite.CustomReaper;

/// <summary>
/// A reaper of its own, written only against Boxlite's public reaper contract: each box lives in a cgroup of the
/// cgroup v1 <c>freezer</c> hierarchy (hybrid hosts mount it at <c>/sys/fs/cgroup/freezer</c>), which the box monitor
/// joins before it forks anything, so every process of the box is born inside it, wherever it goes after (a double
/// fork, <c>setsid</c>, a nested PID namespace). The reap freezes the box — a frozen process can neither fork nor exit,
/// so no listed pid can be handed to another process — SIGKILLs every listed process, thaws so the kills land, repeats
/// until the cgroup holds nothing, and removes it.
/// </summary>
/// <remarks>
/// Needs root and the v1 freezer (a host whose freezer is in cgroup v2 has the built-in reapers instead). Box cgroups
/// live under <c>&lt;mount&gt;/&lt;parent&gt;/&lt;box id&gt;</c>; the parent stays when its last box goes.
/// </remarks>
public sealed partial class FreezerReaper : ITreeReaper
{
    /// <summary>The reaper's name (<see cref="BoxliteOptions.Reaper"/> selects it by this name).</summary>
    public const string MethodName = "cgroup-v1-freezer";

    /// <summary>Where hybrid hosts mount the v1 freezer hierarchy.</summary>
    public const string DefaultMount = "/sys/fs/cgroup/freezer";

    /// <summary>The cgroup under the mount that holds the box cgroups, unless another is given.</summary>
    public const string DefaultParent = "boxlite-freezer";

    // A process in uninterruptible sleep (D) never lets its cgroup freeze: try again rather than wait out the deadline.
    private static readonly TimeSpan FreezeWait = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ExitWait = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);

    private readonly string _mount;
    private readonly string _root;
    private readonly TimeProvider _time;
    private readonly Lazy<ReaperSupport> _support;

    /// <summary>A reaper keeping box cgroups under <paramref name="parent"/> of the freezer hierarchy at <paramref name="mount"/>.</summary>
    /// <param name="parent">A relative cgroup path without <c>..</c>; give each home its own.</param>
    /// <param name="mount">Where the v1 freezer hierarchy is mounted.</param>
    /// <param name="time">The clock of the reap's deadlines; the system clock when null.</param>
    public FreezerReaper(string parent = DefaultParent, string mount = DefaultMount, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(parent);
        ArgumentException.ThrowIfNullOrWhiteSpace(mount);
        if (parent.StartsWith('/') || parent.Split('/').Any(part => part is "" or "." or ".."))
        {
            throw new ArgumentException($"the parent must be a relative cgroup path without '.' or '..', not '{parent}'", nameof(parent));
        }

        _mount = mount;
        _root = Path.Combine(mount, parent);
        _time = time ?? TimeProvider.System;
        _support = new Lazy<ReaperSupport>(Probe);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public ReapGuarantee Guarantee => ReapGuarantee.WholeTree;

    /// <inheritdoc />
    public ReaperSupport Support => _support.Value;

    /// <summary>The box's freezer cgroup.</summary>
    public string DirectoryOf(BoxId id) => Path.Combine(_root, id.Value);

    /// <summary>Makes the box's cgroup (again, if asked again); the monitor, and any process run in the box later, joins it first.</summary>
    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var directory = DirectoryOf(box.Id);
        Directory.CreateDirectory(directory);
        return ValueTask.FromResult(new BoxLaunchPlan { JoinFiles = [Path.Combine(directory, "cgroup.procs")] });
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        return ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>([.. Pids(DirectoryOf(box.Id)).Select(Describe)]);
    }

    /// <inheritdoc />
    public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(box);
        var started = _time.GetTimestamp();
        var directory = DirectoryOf(box.Id);
        if (!Directory.Exists(directory))
        {
            return ReapReport.Nothing(Name, Guarantee);
        }

        var killed = new HashSet<int>();
        while (Pids(directory).Count > 0)
        {
            var left = timeout - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new ReapTimeoutException(box.Id, _time.GetElapsedTime(started), [.. Pids(directory).Select(Describe)],
                    $"{Name}: {directory} still holds processes");
            }

            var state = Path.Combine(directory, "freezer.state");
            await File.WriteAllTextAsync(state, "FROZEN", cancellationToken).ConfigureAwait(false);
            try
            {
                if (await WaitAsync(() => ReadState(state) == "FROZEN", Min(FreezeWait, left), cancellationToken).ConfigureAwait(false))
                {
                    // Listed while frozen: each pid is still the process the box holds when it gets the signal.
                    foreach (var pid in Pids(directory))
                    {
                        if (Kill(pid, SigKill) == 0)
                        {
                            killed.Add(pid);
                        }
                    }
                }
            }
            finally
            {
                // A frozen process dies of its SIGKILL only once thawed.
                await File.WriteAllTextAsync(state, "THAWED", CancellationToken.None).ConfigureAwait(false);
            }

            await WaitAsync(() => Pids(directory).Count == 0, Min(ExitWait, timeout - _time.GetElapsedTime(started)), cancellationToken).ConfigureAwait(false);
        }

        await RemoveAsync(directory, timeout - _time.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
        return new ReapReport
        {
            Method = Name,
            ProcessesKilled = killed.Count,
            Duration = _time.GetElapsedTime(started),
            ContainmentRemoved = true,
            Guarantee = Guarantee,
        };
    }

    private ReaperSupport Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new(false, "the cgroup v1 freezer exists only on Linux");
        }

        // A cgroup v1 mount at the path, with the freezer controller: "cgroup <mount> cgroup rw,...,freezer 0 0".
        var mounted = File.ReadLines("/proc/self/mounts").Select(line => line.Split(' ')).Any(f =>
            f.Length > 3 && f[1] == _mount && f[2] == "cgroup" && f[3].Split(',').Contains("freezer"));
        if (!mounted)
        {
            return new(false, $"no cgroup v1 freezer hierarchy is mounted at {_mount} (a host whose freezer is in cgroup v2 has the built-in cgroup-freeze-kill)");
        }

        return Geteuid() == 0
            ? new(true, $"each box in a cgroup of the v1 freezer hierarchy under {_root}; reaped by freeze, SIGKILL, thaw")
            : new(false, $"making cgroups in the freezer hierarchy at {_mount} needs root");
    }

    /// <summary>The pids in the cgroup <paramref name="directory"/> and every cgroup below it (a box may make some).</summary>
    private static List<int> Pids(string directory)
    {
        var pids = new List<int>();
        if (!Directory.Exists(directory))
        {
            return pids;
        }

        try
        {
            foreach (var line in File.ReadLines(Path.Combine(directory, "cgroup.procs")))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    pids.Add(pid);
                }
            }

            foreach (var child in Directory.EnumerateDirectories(directory))
            {
                pids.AddRange(Pids(child));
            }
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // Removed meanwhile: nothing is left in it.
        }

        return pids;
    }

    /// <summary>Removes the cgroup and those below it, deepest first; a cgroup just emptied may refuse for a moment.</summary>
    private async Task RemoveAsync(string directory, TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            await RemoveAsync(child, timeout, cancellationToken).ConfigureAwait(false);
        }

        var started = _time.GetTimestamp();
        while (true)
        {
            try
            {
                Directory.Delete(directory);
                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (IOException) when (_time.GetElapsedTime(started) < timeout)
            {
                await Task.Delay(Poll, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (!condition())
        {
            if (_time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(Poll, _time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private static string? ReadState(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The pid with its name and state from <c>/proc/&lt;pid&gt;/stat</c> (<c>?</c> when it is gone).</summary>
    private static BoxProcessInfo Describe(int pid)
    {
        try
        {
            // "pid (comm) S ...": the name may hold spaces and parentheses, the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            return new BoxProcessInfo(pid, stat[(open + 1)..close], stat[close + 2]);
        }
        catch (IOException)
        {
            return new BoxProcessInfo(pid, "?", '?');
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint Geteuid();
}
