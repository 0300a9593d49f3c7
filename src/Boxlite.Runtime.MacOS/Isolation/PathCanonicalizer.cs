namespace Boxlite.Runtime.MacOS.Isolation;

/// <summary>Turns a path into the one the kernel sees, which is what seatbelt rules match.</summary>
internal interface IPathCanonicalizer
{
    /// <summary>The absolute path with every symbolic link resolved (macOS: <c>/tmp</c> is <c>/private/tmp</c>).</summary>
    string Canonicalize(string path);
}

/// <summary>
/// Resolves symbolic links component by component, like <c>realpath(3)</c>, but also for paths whose tail does not
/// exist yet (the tail is kept as written).
/// </summary>
internal sealed class FileSystemPathCanonicalizer : IPathCanonicalizer
{
    private const int MaxLinks = 40;

    public static FileSystemPathCanonicalizer Instance { get; } = new();

    public string Canonicalize(string path)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            throw new ArgumentException($"'{path}' is not an absolute path", nameof(path));
        }

        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var resolved = "/";
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                resolved = Path.GetDirectoryName(resolved) ?? "/";
                continue;
            }

            var next = Path.Join(resolved, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                resolved = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new IOException($"too many symbolic links resolving '{path}'");
            }

            // The link's target replaces this component: absolute from the root, relative from the link's directory.
            foreach (var segment in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(segment);
            }

            if (target.StartsWith('/'))
            {
                resolved = "/";
            }
        }

        return resolved;
    }
}
