# Boxlite box monitor: the first process of a box. POSIX sh, run as
#   sh -c "<this script>" boxlite-monitor [PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]
# as a session leader, in a clean environment of its own: a fixed PATH and its settings in BOXLITE_* variables. The
# box's variables (the COUNT entries) are applied only by the innermost wrapper, right before the command's exec: here
# when there is no isolation PREFIX, else by the prefix's own wrapper. Builtins and absolute tool paths only.
# Its control directory $ctl is fresh and only the monitor and the runtime write there; the command works elsewhere.
# Each duty below is one numbered block; keep it short: this process lives as long as the box.
set -u -f -C  # -C: ">" never replaces an existing entry, so nothing planted can redirect a write of ours.
umask 077     # Logs and control files are the owner's only.
ctl=$BOXLITE_CTL
join=${BOXLITE_JOIN:-}
command_join=${BOXLITE_COMMAND_JOIN:-}
kill_file=${BOXLITE_KILL_FILE:-}
procs_file=${BOXLITE_PROCS_FILE:-}
kill_pid_file=${BOXLITE_KILL_PID_FILE:-}
attached=${BOXLITE_ATTACHED:-0}
log_max=${BOXLITE_LOG_MAX:-16777216}
workdir=${BOXLITE_WORKDIR:-$ctl/work}
apply_env=${BOXLITE_APPLY_ENV:-1}
nspid_fd=${BOXLITE_NSPID_FD:-0}
unset BOXLITE_CTL BOXLITE_JOIN BOXLITE_COMMAND_JOIN BOXLITE_KILL_FILE BOXLITE_PROCS_FILE BOXLITE_KILL_PID_FILE \
  BOXLITE_ATTACHED BOXLITE_LOG_MAX BOXLITE_WORKDIR BOXLITE_APPLY_ENV BOXLITE_NSPID_FD
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

# Kills what is left of the command's tree (not the monitor, not the loggers).
kill_command() {
  if [ -n "$kill_file" ]; then
    echo 1 >|"$kill_file"
  elif [ -n "$procs_file" ]; then
    # Without cgroup.kill: freeze, and only once the kernel reports "frozen 1" (no fork, no exit, so no pid can be
    # reused) SIGKILL every listed pid; thaw so the kills land; repeat until none is left. Never an unconfirmed list.
    cg=${procs_file%/*}
    i=0
    while [ "$i" -lt 100 ]; do
      i=$((i + 1))
      echo 1 >|"$cg/cgroup.freeze"
      frozen=
      while read -r key value; do [ "$key" = frozen ] && frozen=$value; done <"$cg/cgroup.events"
      if [ "$frozen" != 1 ]; then
        /bin/sleep 0.01
        continue
      fi
      pids=
      while read -r p; do pids="$pids $p"; done <"$procs_file"
      for p in $pids; do kill -KILL "$p" 2>/dev/null; done
      echo 0 >|"$cg/cgroup.freeze"
      [ -n "$pids" ] || return 0
    done
    echo 0 >|"$cg/cgroup.freeze"
  elif [ -n "$kill_pid_file" ]; then
    # macOS: the group keeper kills its whole process group when told to stop; it removes this file before it exits.
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

# 4. Logs: stdout and stderr through capped loggers, so a chatty box cannot fill the disk. The FIFOs .out and .err are
#    made by the runtime. The cap is a file size limit on the writing cat (it writes at once, unlike head's buffered
#    stdio); once it is hit, that cat dies and the rest is drained unwritten (/dev/null is not a file the limit applies
#    to), so the box is never blocked.
blocks=$((log_max / 512))
(ulimit -f "$blocks"; /bin/cat >"$ctl/stdout.log" 2>/dev/null || exec /bin/cat >/dev/null) <"$ctl/.out" &
out_logger=$!
(ulimit -f "$blocks"; /bin/cat >"$ctl/stderr.log" 2>/dev/null || exec /bin/cat >/dev/null) <"$ctl/.err" &
err_logger=$!
exec 3>"$ctl/.out" 4>"$ctl/.err"

# 5. The command, in the foreground so its signals keep their default actions. A small sh records its pid, joins the
#    command's own containment (and gives up if the host went meanwhile: the watcher's kill may have missed it), opens
#    descriptor 3 for an isolation that records the namespace pid through it, applies the box's environment when no
#    prefix does, and becomes the command (through the isolation prefix).
if cd "$workdir"; then
  /bin/sh -c 'set -fC; ctl=$1 ns=$2 apply=$3; IFS=$4; join=$5; shift 5
    echo $$ >"$ctl/child.pid" || exit 125
    for f in $join; do echo $$ >|"$f" || exit 125; done
    [ -e "$ctl/host-gone" ] && exit 125
    unset IFS
    [ "$ns" = 0 ] || exec 3>"$ctl/command.nspid" || exit 125
    [ "$apply" = 0 ] && exec "$@"
    n=$1; shift; while [ "$n" -gt 0 ]; do export "$1" || exit 125; shift; n=$((n - 1)); done; exec "$@"' \
    boxlite-command "$ctl" "$nspid_fd" "$apply_env" "$nl" "$command_join" "$@" >&3 2>&4 3>&- 4>&-
  code=$?
else
  echo "boxlite-monitor: cannot enter working directory $workdir" >&4
  code=126
fi
exec 3>&- 4>&-

# 6. The command is done: end the watcher, kill the rest of the command's tree, let the loggers drain, then record the
#    exit status in one write to a fresh file (the runtime accepts only a complete record).
if [ -n "$watcher" ]; then
  kill -KILL "$watcher" 2>/dev/null
  wait "$watcher"
fi
kill_command
wait "$out_logger" "$err_logger"
reason=
[ -e "$ctl/host-gone" ] && reason=host-gone
printf '%s\n%s\n' "$code" "$reason" >"$ctl/exit"
exit 0
