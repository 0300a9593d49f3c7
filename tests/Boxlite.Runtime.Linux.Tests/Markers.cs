namespace Boxlite.Runtime.Linux.Tests;

/// <summary>Finds the processes of a test by a variable in their environment, independently of any cgroup.</summary>
internal static class Markers
{
    /// <summary>Live (non-zombie) processes whose environment holds <paramref name="variable"/> (<c>NAME=value</c>).</summary>
    public static List<int> Carrying(string variable)
    {
        var needle = System.Text.Encoding.ASCII.GetBytes(variable);
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                // A zombie's environment reads empty, so it never matches.
                if (int.TryParse(Path.GetFileName(dir), out var pid) && File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return found;
    }
}
