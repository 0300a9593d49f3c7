using System.Globalization;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime;

/// <summary>The exit status the monitor wrote into the box's control directory, in one write to a fresh file.</summary>
/// <param name="Code">Exit code of the command, 128 + signal when a signal ended it.</param>
/// <param name="Reason">Why, when the monitor knows (e.g. <c>host-gone</c>).</param>
internal sealed record ExitStatus(int Code, string? Reason)
{
    public const string HostGone = "host-gone";

    /// <summary>
    /// The status, or null while there is none: no file, anything but a regular file, or not a complete record
    /// (<c>CODE\nREASON\n</c>) — a half-written file reads as not yet written.
    /// </summary>
    public static ExitStatus? TryRead(BoxContext box)
    {
        var text = ControlFile.TryRead(box.ExitFile);
        var lines = text?.Split('\n');
        if (lines is not [var code, var reason, ""] ||
            !int.TryParse(code, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        return new ExitStatus(value, reason.Length > 0 ? reason : null);
    }
}
