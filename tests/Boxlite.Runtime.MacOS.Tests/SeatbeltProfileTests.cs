using Boxlite.Runtime.MacOS.Isolation;

namespace Boxlite.Runtime.MacOS.Tests;

public sealed class SeatbeltProfileTests
{
    /// <summary>macOS's own links: /tmp, /var and /etc live under /private.</summary>
    private sealed class MacLinks : IPathCanonicalizer
    {
        public string Canonicalize(string path)
        {
            foreach (var linked in new[] { "/tmp", "/var", "/etc" })
            {
                if (path == linked || path.StartsWith(linked + "/", StringComparison.Ordinal))
                {
                    return "/private" + path;
                }
            }

            return path;
        }
    }

    private static readonly SeatbeltPolicy Policy = new()
    {
        WorkDirectory = "/tmp/home/boxes/abc/work",
        TempDirectory = "/tmp/home/boxes/abc/tmp",
        AllowNetwork = true,
    };

    private static string Generate(SeatbeltPolicy policy) => SeatbeltProfile.Generate(policy, new MacLinks());

    [Fact]
    public void The_default_profile_denies_by_default_and_allows_the_box_its_directory_and_the_network()
    {
        Generate(Policy).Should().Be("""
            (version 1)
            (deny default)

            ; Processes: run and fork; signal and inspect only processes of this sandbox.
            (allow process-exec)
            (allow process-fork)
            (allow signal (target same-sandbox))
            (allow process-info* (target same-sandbox))

            ; What an ordinary command needs: stat of any path (path resolution walks the tree), the system read-only,
            ; a few devices, system information, user and group lookups, logging.
            (allow file-read-metadata)
            (allow file-read*
              (literal "/")
              (subpath "/Applications/Xcode.app")
              (subpath "/Library")
              (subpath "/System")
              (subpath "/bin")
              (subpath "/opt")
              (subpath "/private/etc")
              (subpath "/private/var/db/dyld")
              (subpath "/private/var/db/timezone")
              (subpath "/private/var/select")
              (subpath "/sbin")
              (subpath "/usr")
              (subpath "/dev/fd")
              (literal "/dev/null")
              (literal "/dev/random")
              (literal "/dev/tty")
              (literal "/dev/urandom")
              (literal "/dev/zero"))
            (allow file-write-data
              (literal "/dev/dtracehelper")
              (literal "/dev/null")
              (literal "/dev/tty")
              (literal "/dev/zero"))
            (allow file-ioctl (literal "/dev/dtracehelper") (literal "/dev/tty"))
            (allow sysctl-read)
            (allow user-preference-read)
            (allow mach-lookup
              (global-name "com.apple.system.logger")
              (global-name "com.apple.system.notification_center")
              (global-name "com.apple.system.opendirectoryd.libinfo")
              (global-name "com.apple.system.opendirectoryd.membership"))
            (allow ipc-posix-shm-read-data (ipc-posix-name "apple.shm.notification_center"))

            ; The box: its work directory and its temp are readable and writable; its control files are neither.
            (allow file-read* file-write*
              (subpath "/private/tmp/home/boxes/abc/work")
              (subpath "/private/tmp/home/boxes/abc/tmp"))

            ; Network: allowed, with name resolution and certificate checks.
            (allow network*)
            (allow system-socket)
            (allow file-read* (literal "/private/var/run/resolv.conf"))
            (allow mach-lookup
              (global-name "com.apple.SystemConfiguration.configd")
              (global-name "com.apple.dnssd.service")
              (global-name "com.apple.trustd.agent"))

            """);
    }

    [Fact]
    public void Without_network_the_profile_allows_no_network_operation()
    {
        var profile = Generate(Policy with { AllowNetwork = false });

        profile.Should().NotContain("network").And.NotContain("system-socket").And.NotContain("resolv.conf");
        profile.Should().EndWith("; Network: none (denied by default).\n");
        profile.Should().StartWith("(version 1)\n(deny default)\n");
    }

    [Fact]
    public void Extra_read_paths_are_read_only_and_extra_write_paths_join_the_box_rule()
    {
        var profile = Generate(Policy with { ReadPaths = ["/etc/ssl", "/Users/me/project"], WritePaths = ["/tmp/shared"] });

        profile.Should().Contain("""
            ; Read-only: the command, the working directory and configured paths.
            (allow file-read*
              (subpath "/private/etc/ssl")
              (subpath "/Users/me/project"))
            """);
        profile.Should().Contain("""
            (allow file-read* file-write*
              (subpath "/private/tmp/home/boxes/abc/work")
              (subpath "/private/tmp/home/boxes/abc/tmp")
              (subpath "/private/tmp/shared"))
            """);
    }

    [Fact]
    public void The_box_may_write_its_work_directory_and_temp_but_not_its_box_directory()
    {
        var profile = Generate(Policy);

        profile.Should().Contain("(allow file-read* file-write*\n  (subpath \"/private/tmp/home/boxes/abc/work\")\n  (subpath \"/private/tmp/home/boxes/abc/tmp\"))")
            .And.NotContain("(subpath \"/private/tmp/home/boxes/abc\")");
    }

    [Theory]
    [InlineData("/plain/path", "\"/plain/path\"")]
    [InlineData("/a \"quoted\" dir", "\"/a \\\"quoted\\\" dir\"")]
    [InlineData("/back\\slash", "\"/back\\\\slash\"")]
    [InlineData("/paren) (allow default", "\"/paren) (allow default\"")]
    [InlineData("/ünïcødé", "\"/ünïcødé\"")]
    public void Quoting_escapes_what_could_end_the_string(string path, string expected)
    {
        SeatbeltProfile.Quote(path).Should().Be(expected);
    }

    [Theory]
    [InlineData("/x\") (allow default) (deny file-read* (literal \"/y")]
    [InlineData("/x\\\") (allow default")]
    [InlineData("/x\\\\\") (allow default")]
    public void A_box_directory_with_profile_syntax_stays_one_string(string hostile)
    {
        var profile = Generate(Policy with { WorkDirectory = hostile });

        // Reading the quoted literal back (SBPL string rules) yields exactly the path, and the filter closes right after it.
        var start = profile.IndexOf("(subpath \"" + hostile[..2], StringComparison.Ordinal) + "(subpath ".Length;
        var (value, end) = ReadSbplString(profile, start);
        value.Should().Be(hostile);
        profile[(end + 1)..].Should().StartWith(")\n  (subpath \"/private/tmp/home/boxes/abc/tmp\")");
    }

    [Theory]
    [InlineData("/new\nline")]
    [InlineData("/carriage\rreturn")]
    [InlineData("/nul\0byte")]
    [InlineData("/tab\there")]
    public void A_path_with_a_control_character_is_refused(string path)
    {
        var generate = () => Generate(Policy with { TempDirectory = path });

        generate.Should().Throw<ArgumentException>().WithMessage("*control character*");
    }

    /// <summary>Reads an SBPL string literal starting at the opening quote, as the profile reader does.</summary>
    private static (string Value, int ClosingQuote) ReadSbplString(string text, int openingQuote)
    {
        text[openingQuote].Should().Be('"');
        var value = new System.Text.StringBuilder();
        for (var i = openingQuote + 1; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\':
                    value.Append(text[++i]);
                    break;
                case '"':
                    return (value.ToString(), i);
                default:
                    value.Append(text[i]);
                    break;
            }
        }

        throw new InvalidOperationException("unterminated string");
    }
}
