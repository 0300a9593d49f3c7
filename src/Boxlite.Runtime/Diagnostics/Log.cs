using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime;

// Event ids 1000-1999 belong to the core assembly. The life of each box is logged at Debug; Information is for what an
// operator needs (the runtime starting, a recovery summary), warnings and errors for failures.
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Debug, "Box {Id} created ({Command}, isolation {Isolation}, detached {Detached})")]
    public static partial void BoxCreated(ILogger logger, BoxId id, string command, BoxIsolation isolation, bool detached);

    [LoggerMessage(1001, LogLevel.Debug, "Box {Id} started: monitor pid {Pid}, reaper {Reaper}")]
    public static partial void BoxStarted(ILogger logger, BoxId id, int pid, string reaper);

    [LoggerMessage(1002, LogLevel.Warning, "Box {Id} failed to start: {Reason}")]
    public static partial void BoxStartFailed(ILogger logger, BoxId id, string reason, Exception? exception);

    [LoggerMessage(1003, LogLevel.Debug, "Box {Id} is {State} (exit code {ExitCode})")]
    public static partial void BoxFinished(ILogger logger, BoxId id, BoxState state, int? exitCode);

    [LoggerMessage(1004, LogLevel.Debug, "Box {Id} reaped by {Method}: {Killed} process(es) in {Milliseconds:F1} ms")]
    public static partial void BoxReaped(ILogger logger, BoxId id, string method, int killed, double milliseconds);

    [LoggerMessage(1005, LogLevel.Error, "Box {Id} could not be reaped: {Message}")]
    public static partial void ReapFailed(ILogger logger, BoxId id, string message, Exception exception);

    [LoggerMessage(1006, LogLevel.Debug, "Box {Id} removed")]
    public static partial void BoxRemoved(ILogger logger, BoxId id);

    [LoggerMessage(1007, LogLevel.Information, "Recovery: {Running} running, {Exited} exited, {Orphans} orphaned attached reaped, {HalfCreated} half-created cleaned, {FinishedStops} stops finished, {Unrecorded} unrecorded reaped, {AutoRemoved} auto-removed, {Unknown} unknown")]
    public static partial void Recovered(ILogger logger, int running, int exited, int orphans, int halfCreated, int finishedStops, int unrecorded, int autoRemoved, int unknown);

    [LoggerMessage(1008, LogLevel.Warning, "Recovery could not reconcile box {Id}: {Message}")]
    public static partial void RecoveryProblem(ILogger logger, BoxId id, string message, Exception? exception);

    [LoggerMessage(1009, LogLevel.Information, "Boxlite runtime on {Home} uses platform {Platform} with reaper {Reaper} ({Guarantee})")]
    public static partial void RuntimeStarted(ILogger logger, string home, string platform, string reaper, ReapGuarantee guarantee);

    [LoggerMessage(1010, LogLevel.Warning, "Stopping attached box {Id} on shutdown failed: {Message}")]
    public static partial void ShutdownStopFailed(ILogger logger, BoxId id, string message, Exception exception);

    [LoggerMessage(1011, LogLevel.Warning, "Box {Id}: a failed pause or resume could not be undone: {Message}")]
    public static partial void FreezeUndoFailed(ILogger logger, BoxId id, string message, Exception exception);

    [LoggerMessage(1100, LogLevel.Information, "Reaper {Reaper} ({Guarantee}, {Origin}) selected, {Why}: {Reason}")]
    public static partial void ReaperSelected(ILogger logger, string reaper, ReapGuarantee guarantee, string origin, string why, string reason);

    [LoggerMessage(1101, LogLevel.Debug, "Reaper {Reaper} not usable here: {Reason}")]
    public static partial void ReaperUnavailable(ILogger logger, string reaper, string reason);

    [LoggerMessage(1102, LogLevel.Warning, "Only the single-process reaper {Reaper} is usable here: a box's descendants may outlive it ({Reason})")]
    public static partial void WeakReaper(ILogger logger, string reaper, string reason);
}
