using System.Diagnostics;

namespace Boxlite.Runtime.Linux.Tests;

/// <summary>
/// A small ext4 filesystem on a loop device, mounted and frozen (<c>fsfreeze</c>): a write to it waits in
/// uninterruptible sleep until it is thawed. Dispose thaws, unmounts and detaches it.
/// </summary>
internal sealed class FrozenFileSystem : IDisposable
{
    public const string SkipReason = "needs root, a loop device, mkfs.ext4, losetup and fsfreeze";

    private static readonly string[] Tools = ["/usr/sbin/mkfs.ext4", "/usr/sbin/losetup", "/usr/sbin/fsfreeze", "/usr/bin/mount", "/usr/bin/umount"];

    private readonly string _image;
    private string? _device;
    private bool _mounted;
    private bool _frozen;

    private FrozenFileSystem(string parent)
    {
        Directory = Path.Combine(parent, "frozen");
        _image = Path.Combine(parent, "frozen.img");
    }

    public static bool CanMake =>
        Environment.UserName == "root" && File.Exists("/dev/loop-control") && Tools.All(File.Exists);

    /// <summary>Where the frozen filesystem is mounted.</summary>
    public string Directory { get; }

    public static FrozenFileSystem Make(string parent)
    {
        var fs = new FrozenFileSystem(parent);
        try
        {
            using (var image = File.Create(fs._image))
            {
                image.SetLength(16 << 20);
            }

            System.IO.Directory.CreateDirectory(fs.Directory);
            Run("/usr/sbin/mkfs.ext4", "-q", fs._image);
            fs._device = Run("/usr/sbin/losetup", "--find", "--show", fs._image).Trim();
            Run("/usr/bin/mount", fs._device, fs.Directory);
            fs._mounted = true;
            Run("/usr/sbin/fsfreeze", "--freeze", fs.Directory);
            fs._frozen = true;
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    public void Thaw()
    {
        if (_frozen)
        {
            Run("/usr/sbin/fsfreeze", "--unfreeze", Directory);
            _frozen = false;
        }
    }

    public void Dispose()
    {
        Thaw();
        if (_mounted)
        {
            // Lazy: a writer that has not died yet must not keep the mount (and the loop device) forever.
            Run("/usr/bin/umount", "--lazy", Directory);
        }

        if (_device is not null)
        {
            Run("/usr/sbin/losetup", "--detach", _device);
        }

        File.Delete(_image);
    }

    private static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{tool} {string.Join(' ', args)}: {error}");
    }
}
