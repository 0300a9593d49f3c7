# Boxlite box monitor: the first process of a box. POSIX sh, run as
#   [setsid] sh -c "<this script>" boxlite-monitor COMMAND [ARG...]
# with its settings in BOXLITE_* variables (unset before the command runs).
# Each duty below is one numbered block; keep it short: this process lives as long as the box.
set -u
set -f
dir=$BOXLITE_DIR
join=${BOXLITE_JOIN:-}
command_join=${BOXLITE_COMMAND_JOIN:-}
kill_file=${BOXLITE_KILL_FILE:-}
procs_file=${BOXLITE_PROCS_FILE:-}
kill_pid_file=${BOXLITE_KILL_PID_FILE:-}
attached=${BOXLITE_ATTACHED:-0}
log_max=${BOXLITE_LOG_MAX:-16777216}
workdir=${BOXLITE_WORKDIR:-$dir}
unset BOXLITE_DIR BOXLITE_JOIN BOXLITE_COMMAND_JOIN BOXLITE_KILL_FILE BOXLITE_PROCS_FILE BOXLITE_KILL_PID_FILE BOXLITE_ATTACHED BOXLITE_LOG_MAX BOXLITE_WORKDIR
nl='
'

# 1. Containment before anything else (G1): join every containment file (builtin echo, no fork yet).
IFS=$nl
for f in $join; do
  echo $$ >"$f" || { echo "boxlite-monitor: cannot join $f" >&2; exit 125; }
done
unset IFS

# 2. Handshake: tell the runtime our pid, then start only when it says "go" (it verifies containment first).
echo "joined $$"
IFS= read -r go || go=
if [ "$go" != go ]; then
  printf '125\nnot-started\n' >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
  exit 125
fi
exec >>"$dir/monitor.log" 2>&1

# Kills what is left of the command's tree (not the monitor, not the loggers).
kill_command() {
  if [ -n "$kill_file" ]; then
    echo 1 >"$kill_file"
  elif [ -n "$procs_file" ]; then
    # Without cgroup.kill: freeze (no forks, no pid reuse while we read), SIGKILL every pid, thaw; repeat.
    freeze=${procs_file%/*}/cgroup.freeze
    i=0
    while [ "$i" -lt 100 ]; do
      echo 1 >"$freeze" 2>/dev/null
      pids=$(cat "$procs_file" 2>/dev/null) || pids=
      IFS=$nl
      for p in $pids; do kill -KILL "$p" 2>/dev/null; done
      unset IFS
      echo 0 >"$freeze" 2>/dev/null
      [ -n "$pids" ] || return 0
      sleep 0.01
      i=$((i + 1))
    done
  elif [ -n "$kill_pid_file" ]; then
    # macOS: the group keeper kills its whole process group when told to stop; it removes this file before it exits.
    p=$(cut -d' ' -f1 "$kill_pid_file" 2>/dev/null) && [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
  fi
}

# 3. Attached box: the runtime holds the other end of stdin; EOF means it is gone, so the box goes too.
#    (Through fd 5: sh gives a background list /dev/null as stdin before applying its own redirections.)
if [ "$attached" = 1 ]; then
  exec 5<&0
  (
    exec 0<&5 5<&-
    while IFS= read -r _; do :; done
    echo host-gone >"$dir/host-gone"
    kill_command
  ) &
  exec 5<&-
fi
exec </dev/null

# 4. Logs: stdout and stderr through capped loggers, so a chatty box cannot fill the disk. The cap is a file size
#    limit on the writing cat (it writes at once, unlike head's buffered stdio); once it is hit, that cat dies and the
#    rest is drained unwritten (/dev/null is not a file the limit applies to), so the box is never blocked.
blocks=$((log_max / 512))
mkfifo "$dir/.out" "$dir/.err" || exit 125
(ulimit -f "$blocks"; cat >"$dir/stdout.log" 2>/dev/null || exec cat >/dev/null) <"$dir/.out" &
out_logger=$!
(ulimit -f "$blocks"; cat >"$dir/stderr.log" 2>/dev/null || exec cat >/dev/null) <"$dir/.err" &
err_logger=$!
exec 3>"$dir/.out" 4>"$dir/.err"
rm -f "$dir/.out" "$dir/.err"

# 5. The command, in the foreground so its signals keep their default actions. A small sh records its pid,
#    joins the command's own containment, and becomes the command (through the isolation prefix, if any).
if cd "$workdir"; then
  sh -c 'echo $$ >"$0/child.pid"; IFS="$1"; for f in $2; do echo $$ >"$f" || exit 125; done; unset IFS; shift 2; exec "$@"' \
    "$dir" "$nl" "$command_join" "$@" >&3 2>&4 3>&- 4>&-
  code=$?
else
  echo "boxlite-monitor: cannot enter working directory $workdir" >&4
  code=126
fi
exec 3>&- 4>&-

# 6. The command is done: kill the rest of its tree, let the loggers drain, then record the exit atomically.
kill_command
wait "$out_logger" "$err_logger"
reason=
[ -e "$dir/host-gone" ] && reason=host-gone
printf '%s\n%s\n' "$code" "$reason" >"$dir/exit.tmp" && mv -f "$dir/exit.tmp" "$dir/exit"
exit 0
