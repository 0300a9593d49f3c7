namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>
/// The two tiny launch programs of the macOS platform. They are Perl because <c>/usr/bin/perl</c> ships with macOS and
/// <c>sh</c> cannot create a process group or a session; no native helper is needed.
/// </summary>
internal static class GroupKeeperScript
{
    /// <summary>Perl, at an absolute path: no PATH lookup.</summary>
    public const string Perl = "/usr/bin/perl";

    /// <summary>
    /// The group keeper, run as <c>perl -e KEEPER REGISTRATION COMMAND [ARG...]</c>. It creates a process group for the
    /// command, registers itself (<c>"&lt;pid&gt; group"</c>) and stays alive outside the group until the group is
    /// empty: its pid is the group's number, so no other group can get that number while anyone may still signal it.
    /// </summary>
    public const string Keeper = """
        use strict; use POSIX ();
        my $reg = shift @ARGV;
        sub register { my $t = "$reg.tmp"; open(my $f, '>', $t) or die "boxlite-keeper: $t: $!\n";
          print $f "$$ $_[0]\n"; close($f) or die "boxlite-keeper: $t: $!\n"; rename($t, $reg) or die "boxlite-keeper: $reg: $!\n" }
        sub run { exec { $ARGV[0] } @ARGV; print STDERR "boxlite-keeper: cannot run $ARGV[0]: $!\n"; POSIX::_exit(127) }
        # A background group reading an inherited terminal stops on SIGTTIN: on a terminal, run as one process, no group.
        if (-t STDIN || -t STDOUT || -t STDERR) { register('single'); run() }
        # Stop signals wait until the keeper can act on them; the command gets the mask it came with.
        my $old = POSIX::SigSet->new;
        POSIX::sigprocmask(POSIX::SIG_BLOCK(), POSIX::SigSet->new(POSIX::SIGHUP(), POSIX::SIGINT(), POSIX::SIGQUIT(), POSIX::SIGTERM()), $old);
        my $home = getpgrp();
        setpgrp(0, 0) or die "boxlite-keeper: setpgrp: $!\n";
        register('group');
        my $child = fork();
        defined $child or die "boxlite-keeper: fork: $!\n";
        if (!$child) { POSIX::sigprocmask(POSIX::SIG_SETMASK(), $old); run() }
        # Step out of the group (its sweep must not hit the keeper) and stay alive: the keeper's pid is the group's number.
        setpgrp(0, $home) or print STDERR "boxlite-keeper: cannot leave the group: $!\n";
        sub sweep { getpgrp() != $$ and kill('KILL', -$$) }
        # Told to stop (host gone, box stopped): the whole group goes, then the command's exit is collected below.
        $SIG{$_} = \&sweep for qw(HUP INT QUIT TERM);
        POSIX::sigprocmask(POSIX::SIG_SETMASK(), $old);
        waitpid($child, 0);
        my $status = $?;
        # The command is done: SIGKILL the rest of its group until none is left (bounded: the host's reap confirms).
        for (1 .. 100) { sweep() or last; select(undef, undef, undef, 0.01) }
        unlink $reg;
        exit(($status & 127) ? 128 + ($status & 127) : $status >> 8);
        """;

    /// <summary>Gives the monitor a session of its own (macOS has no <c>setsid</c> command), then becomes it.</summary>
    public const string Session = """
        use POSIX (); defined(POSIX::setsid()) or die "boxlite: setsid: $!\n";
        exec { $ARGV[0] } @ARGV; die "boxlite: cannot run $ARGV[0]: $!\n";
        """;

    /// <summary>Argv that runs a command under a group keeper registered in <paramref name="registrationFile"/>.</summary>
    public static IReadOnlyList<string> KeeperPrefix(string registrationFile) => [Perl, "-e", Keeper, registrationFile];

    /// <summary>Argv that runs a command as the leader of a new session.</summary>
    public static IReadOnlyList<string> SessionPrefix { get; } = [Perl, "-e", Session];
}
