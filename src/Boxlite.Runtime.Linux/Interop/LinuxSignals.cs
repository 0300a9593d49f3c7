namespace Boxlite.Runtime.Linux.Interop;

/// <summary>Linux signal numbers of the names in <see cref="BoxSignals"/>.</summary>
internal static class LinuxSignals
{
    internal const int Kill = 9;
    internal const int Term = 15;

    /// <summary>The Linux number of a signal name (<c>TERM</c>, <c>SIGTERM</c>, <c>15</c>).</summary>
    internal static int Parse(string name)
    {
        if (!BoxSignals.TryNormalize(name, out var normalized))
        {
            throw new ArgumentException($"'{name}' is not a known signal", nameof(name));
        }

        return normalized switch
        {
            "HUP" => 1,
            "INT" => 2,
            "QUIT" => 3,
            "KILL" => 9,
            "USR1" => 10,
            "USR2" => 12,
            "TERM" => 15,
            "ALRM" => 14,
            "WINCH" => 28,
            "CONT" => 18,
            "STOP" => 19,
            "PWR" => 30,
            _ => throw new ArgumentException($"'{name}' has no Linux number", nameof(name)),
        };
    }
}
