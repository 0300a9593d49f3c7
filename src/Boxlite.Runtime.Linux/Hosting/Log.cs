using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.Linux.Hosting;

/// <summary>Log messages of the Linux platform (event ids 2000-2999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Linux reaper {Reaper} ({Guarantee}) selected, {Why}: {Reason}")]
    public static partial void ReaperSelected(ILogger logger, string reaper, ReapGuarantee guarantee, string why, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Linux reaper {Reaper} not usable here: {Reason}")]
    public static partial void ReaperUnavailable(ILogger logger, string reaper, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Only the single-process reaper is usable here: a box's descendants may outlive it ({Reason})")]
    public static partial void WeakReaper(ILogger logger, string reason);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Box {BoxId} contained: {JoinFiles}")]
    public static partial void Contained(ILogger logger, BoxId boxId, string joinFiles);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Cgroup layout: v2 {V2Mount}, box root {BoxRoot}, kill {HasKill}, freeze {HasFreeze}, v1 {V1Controllers}")]
    public static partial void Layout(ILogger logger, string? v2Mount, string? boxRoot, bool hasKill, bool hasFreeze, IEnumerable<string> v1Controllers);
}
