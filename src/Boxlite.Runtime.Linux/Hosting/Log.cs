using Microsoft.Extensions.Logging;

namespace Boxlite.Runtime.Linux.Hosting;

/// <summary>Log messages of the Linux platform (event ids 2000-2999).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2003, Level = LogLevel.Debug, Message = "Box {BoxId} contained: {JoinFiles}")]
    public static partial void Contained(ILogger logger, BoxId boxId, string joinFiles);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Cgroup layout: v2 {V2Mount}, box root {BoxRoot}, kill {HasKill}, freeze {HasFreeze}, v1 {V1Controllers}")]
    public static partial void Layout(ILogger logger, string? v2Mount, string? boxRoot, bool hasKill, bool hasFreeze, IEnumerable<string> v1Controllers);
}
