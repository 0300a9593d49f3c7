using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Boxlite.Runtime.Platform;

namespace Boxlite.Cli;

/// <summary>
/// A box as <c>ls --json</c> (an array of these) and <c>inspect --json</c> (one) print it. Property names are
/// camelCase; every property is always present (null when not known). New properties may be added; existing ones keep
/// their name and meaning.
/// </summary>
/// <param name="Id">The 16-character box id.</param>
/// <param name="Name">The box name, or null.</param>
/// <param name="State">created, running, paused, stopping, exited, failed or unknown.</param>
/// <param name="ExitCode">The exit code (128 + signal when killed); null while running or when unknown.</param>
/// <param name="Pid">The pid of the box monitor (the box's anchor process), or null before start.</param>
/// <param name="CreatedAt">When the box was created (ISO 8601).</param>
/// <param name="Detached">True when the box outlives the command that started it.</param>
/// <param name="Isolation">none, pid, bwrap or seatbelt.</param>
/// <param name="Reaper">The reaper containing the box (e.g. cgroup-kill), or null before start.</param>
/// <param name="Command">The command.</param>
/// <param name="Args">Its arguments.</param>
/// <param name="StartedAt">When it started, or null.</param>
/// <param name="FinishedAt">When it finished, or null.</param>
/// <param name="KilledBy">The signal that ended it when it was reaped (e.g. KILL), or null.</param>
/// <param name="StatusReason">Why it is in its state when that is not obvious, or null.</param>
/// <param name="AutoRemove">True when the box is removed once it exits.</param>
/// <param name="WorkingDirectory">The command's working directory, or null for the box directory.</param>
/// <param name="StopSignal">The signal a stop sends first.</param>
/// <param name="StopTimeoutSeconds">The grace period of a stop, or null for the runtime default.</param>
/// <param name="Limits">Resource limits.</param>
internal sealed record BoxJson(
    string Id,
    string? Name,
    string State,
    int? ExitCode,
    int? Pid,
    DateTimeOffset CreatedAt,
    bool Detached,
    string Isolation,
    string? Reaper,
    string Command,
    IReadOnlyList<string> Args,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? KilledBy,
    string? StatusReason,
    bool AutoRemove,
    string? WorkingDirectory,
    string StopSignal,
    double? StopTimeoutSeconds,
    LimitsJson Limits)
{
    /// <summary>The JSON view of a box record.</summary>
    public static BoxJson From(BoxInfo info) => new(
        info.Id.Value,
        info.Name,
        StateName(info.State),
        info.ExitCode,
        info.Pid,
        info.CreatedAt,
        info.Detached,
        CliParsing.IsolationName(info.Isolation),
        info.Reaper,
        info.Options.Command,
        info.Options.Args,
        info.StartedAt,
        info.FinishedAt,
        info.KilledBy,
        info.StatusReason,
        info.Options.AutoRemove,
        info.Options.WorkingDirectory,
        info.Options.StopSignal,
        info.Options.StopTimeout?.TotalSeconds,
        new LimitsJson(info.Options.Limits.MemoryBytes, info.Options.Limits.Cpus, info.Options.Limits.PidsMax));

    /// <summary>The lower-case state name used in JSON and tables.</summary>
    public static string StateName(BoxState state) => state.ToString().ToLowerInvariant();
}

/// <summary>Resource limits of a box; null means no limit.</summary>
/// <param name="MemoryBytes">Memory limit in bytes.</param>
/// <param name="Cpus">CPU limit in CPUs.</param>
/// <param name="PidsMax">Process limit.</param>
internal sealed record LimitsJson(long? MemoryBytes, double? Cpus, int? PidsMax);

/// <summary>What <c>stats --json</c> prints.</summary>
/// <param name="Id">The box id.</param>
/// <param name="CpuSeconds">CPU time of every process of the box, or null when unknown.</param>
/// <param name="MemoryBytes">Memory in use, or null when unknown.</param>
/// <param name="MemoryPeakBytes">Peak memory, or null when unknown.</param>
/// <param name="Processes">Processes in the box now.</param>
internal sealed record StatsJson(string Id, double? CpuSeconds, long? MemoryBytes, long? MemoryPeakBytes, int Processes);

/// <summary>What <c>doctor --json</c> prints.</summary>
/// <param name="Platform">The platform (linux, macos).</param>
/// <param name="Home">The Boxlite home.</param>
/// <param name="Reaper">The active reaper.</param>
/// <param name="Guarantee">What it tears down: wholeTree, processGroup or singleProcess.</param>
/// <param name="Checks">Every capability check.</param>
internal sealed record DoctorJson(string Platform, string Home, string Reaper, string Guarantee, bool CustomReaper, IReadOnlyList<CheckJson> Checks);

/// <summary>One capability check of <c>doctor --json</c>.</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Ok">True when present.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">How to get it when missing, else null.</param>
internal sealed record CheckJson(string Name, bool Ok, string Detail, string? Fix)
{
    public static CheckJson From(CapabilityCheck check) => new(check.Name, check.Ok, check.Detail, check.Fix);
}

/// <summary>Source-generated (reflection-free) serialization of the CLI's JSON output.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(BoxJson))]
[JsonSerializable(typeof(BoxJson[]))]
[JsonSerializable(typeof(StatsJson))]
[JsonSerializable(typeof(DoctorJson))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>The context the CLI prints with: shell text such as <c>&gt;</c> and <c>&amp;</c> stays as it is (still valid JSON).</summary>
    public static CliJsonContext Readable =>
        field ??= new(new JsonSerializerOptions(Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
