# Boxlite box monitor, portable: POSIX sh (and /usr/bin/perl for its logger), where the platform has no compiled monitor
# (macOS). Run as
#   sh -c "<this script>" boxlite-monitor [PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]
# as a session leader, in a clean environment of its own: a fixed PATH and its settings in BOXLITE_* variables (the
# protocol is described once, in MonitorProcess.cs). The box's variables (the COUNT entries) are applied only by the
# innermost wrapper, right before the command's exec: here when there is no isolation PREFIX, else by the prefix's own
# wrapper. Builtins and absolute tool paths only.
# Its control directory $ctl is fresh and only the monitor and the runtime write there; the command works elsewhere.
# Each duty below is one numbered block; keep it short: this process lives as long as the box.
set -u -f -C  # -C: ">" never replaces an existing entry, so nothing planted can redirect a write of ours.
umask 077     # Logs and control files are the owner's only.
ctl=$BOXLITE_CTL
join=${BOXLITE_JOIN:-}
command_join=${BOXLITE_COMMAND_JOIN:-}
kill_pid_file=${BOXLITE_KILL_PID_FILE:-}
attached=${BOXLITE_ATTACHED:-0}
log_max=${BOXLITE_LOG_MAX:-16777216}
workdir=${BOXLITE_WORKDIR:-$ctl/work}
apply_env=${BOXLITE_APPLY_ENV:-1}
unset BOXLITE_CTL BOXLITE_JOIN BOXLITE_COMMAND_JOIN BOXLITE_KILL_CGROUP BOXLITE_KILL_METHOD BOXLITE_KILL_PID_FILE \
  BOXLITE_ATTACHED BOXLITE_LOG_MAX BOXLITE_WORKDIR BOXLITE_APPLY_ENV BOXLITE_STDIN
nl='
'

# 1. Containment before anything else (G1): join every containment file (builtin echo, no fork yet).
IFS=$nl
for f in $join; do
  echo $$ >|"$f" || { echo "boxlite-monitor: cannot join $f" >&2; exit 125; }
done
unset IFS

# 2. Handshake: tell the runtime our pid, then start only when it says "go" (it verifies containment first).
echo "joined $$"
IFS= read -r go || go=
if [ "$go" != go ]; then
  printf '125\nnot-started\n' >"$ctl/exit"
  exit 125
fi
exec >"$ctl/monitor.log" 2>&1

# Kills what is left of the command's tree (not the monitor, not the logger): the group keeper (macOS) kills its whole
# process group when told to stop; it removes its file before it exits.
kill_command() {
  if [ -n "$kill_pid_file" ]; then
    read -r p _ 2>/dev/null <"$kill_pid_file" && [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  fi
}

# 3. Attached box: the runtime holds the other end of stdin; EOF means it is gone, so the box goes too. The watcher
#    is the monitor's child and ends with the command (block 6): nothing of the monitor outlives it.
#    (Through fd 5: sh gives a background list /dev/null as stdin before applying its own redirections.)
watcher=
if [ "$attached" = 1 ]; then
  exec 5<&0
  (
    exec 0<&5 5<&-
    while IFS= read -r _; do :; done
    echo host-gone >"$ctl/host-gone"
    kill_command
  ) &
  watcher=$!
  exec 5<&-
fi
exec </dev/null

# 4. Logs: ONE logger for both streams (sh cannot wait on two pipes at once; Perl ships with macOS), writing the box's
#    log in the format of BoxLog.cs: each chunk as it arrives, "o<length>" or "e<length>" and a newline, then the
#    bytes; each stream's frames, headers included, take at most log_max bytes, the rest read and dropped, so the box
#    is never blocked. It opens the FIFOs .out and .err (made by the runtime) in the order this script opens their
#    other ends below.
logger='use strict; use Fcntl qw(O_WRONLY O_CREAT O_EXCL O_APPEND O_NOFOLLOW);
my ($log, $max, @fifos) = @ARGV;
my $out; sysopen($out, $log, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW, 0600) or undef $out;
my @in; my @kept = (0, 0); my @tags = ("o", "e");
for my $i (0, 1) { open($in[$i], "<", $fifos[$i]) or die "boxlite-monitor: $fifos[$i]: $!\n" }
while (grep { defined } @in) {
  my $watch = ""; vec($watch, fileno($in[$_]), 1) = 1 for grep { defined $in[$_] } 0, 1;
  select(my $ready = $watch, undef, undef, undef) > 0 or next;
  for my $i (grep { defined $in[$_] && vec($ready, fileno($in[$_]), 1) } 0, 1) {
    my $n = sysread($in[$i], my $chunk, 65536);
    next if !defined $n && $!{EINTR};
    if (!$n) { close($in[$i]); $in[$i] = undef; next }
    my $room = $max - $kept[$i]; $n = $room if $n > $room;
    $n-- while $n > 0 && $n + length($n) + 2 > $room;
    next if $n <= 0;
    my $frame = $tags[$i] . $n . "\n" . substr($chunk, 0, $n);
    $kept[$i] += length $frame;
    syswrite($out, $frame) if $out;
  }
}'
/usr/bin/perl -e "$logger" "$ctl/output.log" "$log_max" "$ctl/.out" "$ctl/.err" &
logger=$!
exec 3>"$ctl/.out" 4>"$ctl/.err"

# 5. The command, in the foreground so its signals keep their default actions. A small sh records its pid, joins the
#    command's own containment (and gives up if the host went meanwhile: the watcher's kill may have missed it),
#    applies the box's environment when no prefix does, and becomes the command (through the isolation prefix).
if cd "$workdir"; then
  /bin/sh -c 'set -fC; ctl=$1 apply=$2; IFS=$3; join=$4; shift 4
    echo $$ >"$ctl/child.pid" || exit 125
    for f in $join; do echo $$ >|"$f" || exit 125; done
    [ -e "$ctl/host-gone" ] && exit 125
    unset IFS
    [ "$apply" = 0 ] && exec "$@"
    n=$1; shift; while [ "$n" -gt 0 ]; do export "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"' \
    boxlite-command "$ctl" "$apply_env" "$nl" "$command_join" "$@" >&3 2>&4 3>&- 4>&-
  code=$?
else
  echo "boxlite-monitor: cannot enter working directory $workdir" >&4
  code=126
fi
exec 3>&- 4>&-

# 6. The command is done: end the watcher, kill the rest of the command's tree, let the logger drain, then record the
#    exit status in one write to a fresh file (the runtime accepts only a complete record).
if [ -n "$watcher" ]; then
  kill -KILL "$watcher" 2>/dev/null
  wait "$watcher"
fi
kill_command
wait "$logger"
reason=
[ -e "$ctl/host-gone" ] && reason=host-gone
printf '%s\n%s\n' "$code" "$reason" >"$ctl/exit"
exit 0
