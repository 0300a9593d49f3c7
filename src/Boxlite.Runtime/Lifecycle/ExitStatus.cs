using System.Globalization;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime;

/// <summary>The exit status the monitor wrote into the box directory (written atomically by rename).</summary>
/// <param name="Code">Exit code of the command, 128 + signal when a signal ended it.</param>
/// <param name="Reason">Why, when the monitor knows (e.g. <c>host-gone</c>).</param>
internal sealed record ExitStatus(int Code, string? Reason)
{
    public const string HostGone = "host-gone";

    public static ExitStatus? TryRead(BoxContext box)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(box.ExitFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (lines.Length == 0 || !int.TryParse(lines[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code))
        {
            return null;
        }

        var reason = lines.Length > 1 && lines[1].Length > 0 ? lines[1] : null;
        return new ExitStatus(code, reason);
    }
}
