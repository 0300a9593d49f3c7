namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>Signal numbers of the host: the BSD numbering on macOS, Linux's elsewhere (where the tests run).</summary>
internal static class SignalNumbers
{
    public const int Kill = 9;

    public static int Stop => Of("STOP")!.Value;

    public static int Continue => Of("CONT")!.Value;

    /// <summary>The number of a <see cref="BoxSignals"/> name, or null when this host has no such signal.</summary>
    public static int? Of(string name) => Of(name, OperatingSystem.IsMacOS());

    /// <summary>The number of a <see cref="BoxSignals"/> name on macOS (<paramref name="mac"/>) or Linux, or null when that system has no such signal.</summary>
    public static int? Of(string name, bool mac)
    {
        if (!BoxSignals.TryNormalize(name, out var normalized))
        {
            return null;
        }

        return normalized switch
        {
            "HUP" => 1,
            "INT" => 2,
            "QUIT" => 3,
            "KILL" => Kill,
            "ALRM" => 14,
            "TERM" => 15,
            "USR1" => mac ? 30 : 10,
            "USR2" => mac ? 31 : 12,
            "WINCH" => 28,
            "CONT" => mac ? 19 : 18,
            "STOP" => mac ? 17 : 19,
            "PWR" => mac ? null : 30,
            _ => null,
        };
    }
}
