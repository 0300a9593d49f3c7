/*
 * boxlite-monitor: the first process of a Linux box, and the launcher of every process exec'd into a running box.
 *
 *   boxlite-monitor monitor [PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]
 *   boxlite-monitor exec    [PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]
 *
 * Its settings come in BOXLITE_* variables, all written in one place of the runtime (MonitorProcess.cs, which also
 * describes the protocol); COUNT NAME=VALUE... is the box's environment block. Freestanding static C (sys.h): it
 * starts in well under a millisecond, lives as long as the box in a few pages of memory, and multiplexes both
 * output streams into one log, which a shell cannot. Each duty is one function.
 */
#include "sys.h"

#define BUFFER 65536
#define PATH_MAX 4096
#define DRAIN_MS 1000                 /* after the command's exit, how long its output may still take to arrive */
#define FREEZE_ROUNDS 100
#define CGROUP_DEPTH 32               /* how deep below the command's cgroup its kill looks, */
#define CGROUP_COUNT 4096             /* and how many cgroups one round reads: a tree the box grew stays bounded work */

static char **environment;            /* the monitor's own: its settings and the launchers' PATH */
static long ctl = -1;                 /* the control directory: every file the monitor makes is made relative to it */
static long cgroup = -1;              /* the command's cgroup directory, when the monitor kills what the command leaves */
static int cgroup_kill;               /* 1: through cgroup.kill; 0: freeze, then kill each pid */
static long log_fd = -1;
static unsigned long log_max;
static char buffer[BUFFER];

struct text { char s[PATH_MAX + 128]; int n; };
struct stream { long fd; char tag; unsigned long logged; };

static unsigned long length(const char *s)
{
    unsigned long n = 0;
    while (s[n]) n++;
    return n;
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

static void add(struct text *t, const char *s)
{
    while (*s && t->n < (int)sizeof t->s - 1) t->s[t->n++] = *s++;
    t->s[t->n] = 0;
}

static void add_number(struct text *t, unsigned long v)
{
    char digits[24];
    int i = sizeof digits - 1;
    digits[i] = 0;
    do digits[--i] = (char)('0' + v % 10); while (v /= 10);
    add(t, digits + i);
}

static long number(const char *s)
{
    long v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000000000L) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* The entry "NAME=VALUE" of the environment ENV, or 0. */
static char *entry_of(char **env, const char *name)
{
    unsigned long n = length(name);
    for (; *env; env++) {
        unsigned long i = 0;
        while (i < n && (*env)[i] == name[i]) i++;
        if (i == n && (*env)[n] == '=') return *env;
    }
    return 0;
}

/* The value of setting NAME, "" when unset. */
static char *setting(const char *name)
{
    char *entry = entry_of(environment, name);
    return entry ? entry + length(name) + 1 : "";
}

static int write_all(long fd, const char *s, long n)
{
    while (n > 0) {
        long w = sys(SYS_write, fd, s, n, 0, 0);
        if (w == -EINTR) continue;
        if (w <= 0) return -1;
        s += w, n -= w;
    }
    return 0;
}

/* One line on stderr: before "go" the runtime reads it; in the command's process it lands in the box's log. */
static void say(const char *what, const char *detail, long error)
{
    struct text t; t.n = 0;
    add(&t, "boxlite-monitor: "), add(&t, what), add(&t, detail);
    if (error) {
        add(&t, ": ");
        add(&t, error == -ENOENT ? "no such file or directory" : error == -EACCES ? "permission denied" : "errno ");
        if (error != -ENOENT && error != -EACCES) add_number(&t, (unsigned long)-error);
    }
    add(&t, "\n");
    write_all(2, t.s, t.n);
}

static long now_ms(void)
{
    struct timespec t;
    sys(SYS_clock_gettime, CLOCK_MONOTONIC, &t, 0, 0, 0);
    return t.sec * 1000 + t.nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };
    sys(SYS_ppoll, 0, 0, &t, 0, 0);
}

/* Closes every descriptor from FIRST up: nothing the monitor holds reaches what it starts. */
static void close_from(int first)
{
    if (sys(SYS_close_range, first, ~0U, 0, 0, 0) < 0) /* before Linux 5.9, or refused by a seccomp filter */
        for (int fd = first; fd < 1024; fd++) sys(SYS_close, fd, 0, 0, 0, 0);
}

/*
 * Containment first (G1): writes this process's pid into each file of the newline-separated list (cgroup.procs of each
 * hierarchy) before it does anything else, so nothing it starts is ever born outside.
 */
static int join(char *files, long pid)
{
    struct text t; t.n = 0;
    add_number(&t, (unsigned long)pid);
    while (*files) {
        char *end = files;
        while (*end && *end != '\n') end++;
        char next = *end;
        *end = 0;
        long fd = sys(SYS_openat, AT_FDCWD, files, O_WRONLY | O_CLOEXEC, 0, 0);
        long written = fd < 0 ? fd : sys(SYS_write, fd, t.s, t.n, 0, 0);
        if (fd >= 0) sys(SYS_close, fd, 0, 0, 0, 0);
        if (written < 0) {
            say("cannot join ", files, written);
            return -1;
        }
        *end = next;
        files = next ? end + 1 : end;
    }
    return 0;
}

/*
 * Makes NAME in the control directory, fresh: never through a link nor onto anything already there. A leftover entry of
 * that name is removed first (unlinkat removes a link itself, never its target).
 */
static long create_fresh(const char *name, int flags)
{
    int how = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | flags;
    long fd = sys(SYS_openat, ctl, name, how, 0600, 0);
    if (fd == -EEXIST && sys(SYS_unlinkat, ctl, name, 0, 0, 0) == 0) fd = sys(SYS_openat, ctl, name, how, 0600, 0);
    return fd;
}

/* Replaces the control file NAME atomically: written whole to NAME.tmp, then renamed, so a reader sees all or nothing. */
static void write_control(const char *name, const char *text, long n)
{
    struct text tmp; tmp.n = 0;
    add(&tmp, name), add(&tmp, ".tmp");
    long fd = create_fresh(tmp.s, 0);
    if (fd < 0) return;
    int ok = write_all(fd, text, n) == 0;
    sys(SYS_close, fd, 0, 0, 0, 0);
    if (ok) sys(SYS_renameat2, ctl, tmp.s, ctl, name, 0);
}

static void write_number_file(const char *name, unsigned long value, const char *reason)
{
    struct text t; t.n = 0;
    add_number(&t, value), add(&t, "\n");
    if (reason) add(&t, reason), add(&t, "\n");
    write_control(name, t.s, t.n);
}

/* The exit record of a command that never ran; returns the monitor's own exit code. */
static int not_started(void)
{
    write_number_file("exit", 125, "not-started");
    return 125;
}

/*
 * Exec, trying each directory of the box's PATH for a bare name, as a shell would (a file without a #! line runs
 * through /bin/sh). Returns only on failure, with the most telling error.
 */
static long try_exec(const char *path, char **argv, char **env)
{
    long error = sys(SYS_execve, path, argv, env, 0, 0);
    if (error == -ENOEXEC) {
        unsigned long n = 0;
        while (argv[n]) n++;
        char *sh[n + 2];
        sh[0] = "sh", sh[1] = (char *)path;
        for (unsigned long i = 1; i <= n; i++) sh[i + 1] = argv[i];
        sys(SYS_execve, "/bin/sh", sh, env, 0, 0);
    }
    return error;
}

static long exec_search(char **argv, char **env)
{
    const char *command = argv[0];
    for (const char *c = command; *c; c++)
        if (*c == '/') return try_exec(command, argv, env);
    const char *entry = entry_of(env, "PATH");
    const char *path = entry ? entry + 5 : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    long error = -ENOENT;
    while (1) {
        struct text file; file.n = 0;
        const char *end = path;
        while (*end && *end != ':') end++;
        while (path < end && file.n < PATH_MAX) file.s[file.n++] = *path++;
        add(&file, file.n ? "/" : "./"), add(&file, command);
        long e = try_exec(file.s, argv, env);
        if (e == -EACCES || error == -ENOENT) error = e;
        if (!*end) return error;
        path = end + 1;
    }
}

/*
 * Every signal to its default disposition, none blocked, whatever the spawner left: an ignored signal and the mask
 * survive exec, and an ignored SIGCHLD would have the kernel reap the command unseen, never telling the monitor.
 */
static void default_signals(void)
{
    long action[4] = {0}, empty = 0;
    for (int s = 1; s <= NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP) sys(SYS_rt_sigaction, s, action, 0, sizeof empty, 0);
    sys(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, sizeof empty, 0);
}

/*
 * Becomes the command (the one "join, then exec" of Linux ends here), holding no descriptor of the monitor's from 3 up
 * and no signal ignored or blocked (the SIGCHLD the monitor blocks for its signalfd neither). ARGS is [PREFIX...] COUNT
 * NAME=VALUE... COMMAND [ARG...]. With an isolation prefix (unshare, bwrap, nsenter; BOXLITE_APPLY_ENV=0) the prefix
 * runs with the launchers' environment and its innermost wrapper applies the block; without one the command gets
 * exactly the block's variables and is looked up on the block's PATH.
 */
__attribute__((noreturn)) static void become(char **args)
{
    close_from(3);
    default_signals();

    long error;
    char *command = args[0];
    if (setting("BOXLITE_APPLY_ENV")[0] != '1') {
        char *launchers[] = { entry_of(environment, "PATH"), 0 };
        error = sys(SYS_execve, command, args, launchers, 0, 0);
    } else {
        long count = number(args[0]), given = 0;
        while (args[1 + given]) given++;
        if (count < 0 || count >= given) {
            say("malformed environment block", "", 0);
            sys(SYS_exit_group, 125, 0, 0, 0, 0);
        }
        char *variables[count + 1];
        for (long i = 0; i < count; i++) variables[i] = args[1 + i];
        variables[count] = 0;
        command = args[1 + count];
        error = exec_search(args + 1 + count, variables);
    }
    say("cannot run ", command, error);
    sys(SYS_exit_group, error == -ENOENT ? 127 : 126, 0, 0, 0, 0);
    __builtin_unreachable();
}

/*
 * The command's process, between fork and exec: its output to the log pipes, its stdin /dev/null (or the runtime's
 * pipe on descriptor 3), the command's own containment joined, then the host-gone check: an attached box whose host
 * died while this process joined was missed by the monitor's kill, so it must not start. It leads a process group of
 * its own, so what the box signals as a group never reaches the monitor.
 */
__attribute__((noreturn)) static void start_command(char **args, long out, long err, int input)
{
    char stat[256];
    sys(SYS_dup3, err, 2, 0, 0, 0);
    sys(SYS_dup3, out, 1, 0, 0, 0);
    long in = input ? 3 : sys(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0, 0);
    if (in < 0 || sys(SYS_dup3, in, 0, 0, 0, 0) < 0) sys(SYS_exit_group, 125, 0, 0, 0, 0);
    if (join(setting("BOXLITE_COMMAND_JOIN"), sys(SYS_getpid, 0, 0, 0, 0, 0)) < 0) sys(SYS_exit_group, 125, 0, 0, 0, 0);
    if (sys(SYS_newfstatat, ctl, "host-gone", stat, AT_SYMLINK_NOFOLLOW, 0) == 0) sys(SYS_exit_group, 125, 0, 0, 0, 0);
    char *workdir = setting("BOXLITE_WORKDIR");
    long error = sys(SYS_chdir, workdir, 0, 0, 0, 0);
    if (error < 0) {
        say("cannot enter working directory ", workdir, error);
        sys(SYS_exit_group, 126, 0, 0, 0, 0);
    }
    sys(SYS_setpgid, 0, 0, 0, 0, 0);
    become(args);
}

/* Whether the file NAME of the command's cgroup contains TEXT (a file that cannot be read does not). */
static int cgroup_says(const char *name, const char *text)
{
    char content[512];
    long fd = sys(SYS_openat, cgroup, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    long n = fd < 0 ? 0 : sys(SYS_read, fd, content, sizeof content - 1, 0, 0);
    if (fd >= 0) sys(SYS_close, fd, 0, 0, 0, 0);
    content[n > 0 ? n : 0] = 0;
    for (char *c = content; *c; c++) {
        const char *a = c, *b = text;
        while (*b && *a == *b) a++, b++;
        if (!*b) return 1;
    }
    return 0;
}

static void cgroup_write(const char *name, const char *value)
{
    long fd = sys(SYS_openat, cgroup, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    if (fd < 0) return;
    write_all(fd, value, (long)length(value));
    sys(SYS_close, fd, 0, 0, 0, 0);
}

/* SIGKILLs every pid in cgroup.procs of the cgroup open as DIR; returns how many were listed. */
static int kill_listed(long dir)
{
    char chunk[4096];
    long fd = sys(SYS_openat, dir, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    if (fd < 0) return 0;
    int listed = 0;
    long pid = 0, n;
    while ((n = sys(SYS_read, fd, chunk, sizeof chunk, 0, 0)) > 0) {
        for (long i = 0; i < n; i++) {
            if (chunk[i] >= '0' && chunk[i] <= '9') {
                pid = pid * 10 + (chunk[i] - '0');
            } else if (pid > 0) {
                sys(SYS_kill, pid, SIGKILL, 0, 0, 0), listed++, pid = 0;
            }
        }
    }
    if (pid > 0) sys(SYS_kill, pid, SIGKILL, 0, 0, 0), listed++;
    sys(SYS_close, fd, 0, 0, 0, 0);
    return listed;
}

/*
 * kill_listed for the cgroup NAME of the directory PARENT and every cgroup below it, each opened relative to its parent
 * and never through a link; at most CGROUP_DEPTH levels and *LEFT cgroups, so a tree the box made vast or deep can
 * neither hang the monitor nor use up its descriptors. Returns how many pids were listed.
 */
static int kill_tree(long parent, const char *name, int depth, int *left)
{
    long entries[256]; /* struct dirent64 records, 8-byte aligned */
    if (*left <= 0) return 0;
    long dir = sys(SYS_openat, parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    if (dir < 0) return 0;
    --*left;
    int listed = kill_listed(dir);
    long n;
    while (depth < CGROUP_DEPTH && *left > 0 && (n = sys(SYS_getdents64, dir, entries, sizeof entries, 0, 0)) > 0) {
        for (long at = 0; at < n;) {
            struct dirent64 *e = (struct dirent64 *)((char *)entries + at);
            at += e->reclen;
            if (e->type == DT_DIR && !same(e->name, ".") && !same(e->name, ".."))
                listed += kill_tree(dir, e->name, depth + 1, left);
        }
    }
    sys(SYS_close, dir, 0, 0, 0, 0);
    return listed;
}

/*
 * Kills what is left of the command's tree (its exit, or its host gone), by its cgroup as the reaper would: nothing
 * when the cgroup is already empty. Without cgroup.kill: freeze the subtree, and only once the kernel reports
 * "frozen 1" (no fork, no exit, so no listed pid can be reused) SIGKILL every pid listed in it, in the command's
 * cgroup and every cgroup the box made below; thaw so the kills land; until none is left.
 */
static void kill_rest(void)
{
    if (cgroup < 0 || cgroup_says("cgroup.events", "populated 0")) return;
    if (cgroup_kill) {
        cgroup_write("cgroup.kill", "1");
        return;
    }
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
        cgroup_write("cgroup.freeze", "1");
        if (!cgroup_says("cgroup.events", "frozen 1")) {
            sleep_ms(10);
            continue;
        }
        int left = CGROUP_COUNT;
        int listed = kill_tree(cgroup, ".", 0, &left);
        cgroup_write("cgroup.freeze", "0");
        if (!listed) return;
    }
    cgroup_write("cgroup.freeze", "0");
}

/*
 * Appends N bytes of BUFFER, read from stream S, to the box's log as one frame: a header line "o<length>" (stdout) or
 * "e<length>" (stderr), then the bytes (the format is described once, in BoxLog.cs). Each stream's frames, headers
 * included, take at most log_max bytes of the file; past that the rest is read and dropped, so the box is never blocked
 * by its log, and a box writing a byte at a time cannot grow the log past its cap through headers.
 */
static void log_chunk(struct stream *s, long n)
{
    unsigned long room = log_max - s->logged;
    struct text head;
    if ((unsigned long)n > room) n = (long)room;
    for (; n > 0; n--) { /* at most a header's length of rounds */
        head.s[0] = s->tag, head.n = 1;
        add_number(&head, (unsigned long)n), add(&head, "\n");
        if ((unsigned long)(head.n + n) <= room) break;
    }
    if (log_fd < 0 || n <= 0) return;
    struct iovec parts[2] = { { head.s, (unsigned long)head.n }, { buffer, (unsigned long)n } };
    /* A short write (a full disk) would tear the frame: the log ends there. */
    if (sys(SYS_writev, log_fd, parts, 2, 0, 0) != head.n + n) log_fd = -1;
    s->logged += (unsigned long)(head.n + n);
}

/* Reads what stream S has; at its end (every writer gone) stops watching it. */
static void drain(struct stream *s, short revents)
{
    if (!revents || s->fd < 0) return;
    long n = sys(SYS_read, s->fd, buffer, BUFFER, 0, 0);
    if (n > 0) {
        log_chunk(s, n);
    } else if (n != -EINTR) {
        sys(SYS_close, s->fd, 0, 0, 0, 0);
        s->fd = -1;
    }
}

/* Says it joined, then waits for "go" from the runtime, which verifies containment first. */
static int handshake(long pid)
{
    struct text t; t.n = 0;
    char go[3];
    add(&t, "joined "), add_number(&t, (unsigned long)pid), add(&t, "\n");
    if (write_all(1, t.s, t.n) < 0) return 0;
    for (long got = 0, n; got < 3; got += n) {
        n = sys(SYS_read, 0, go + got, 3 - got, 0, 0);
        if (n == -EINTR) n = 0;
        else if (n <= 0) return 0;
    }
    return go[0] == 'g' && go[1] == 'o' && go[2] == '\n';
}

static int monitor(char **args)
{
    long pid = sys(SYS_getpid, 0, 0, 0, 0, 0);
    sys(SYS_umask, 077, 0, 0, 0, 0);
    if (join(setting("BOXLITE_JOIN"), pid) < 0) return 125;
    default_signals();
    int input = setting("BOXLITE_STDIN")[0] == '1';
    close_from(input ? 4 : 3);
    ctl = sys(SYS_openat, AT_FDCWD, setting("BOXLITE_CTL"), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
    if (ctl < 0) {
        say("cannot open the control directory ", setting("BOXLITE_CTL"), ctl);
        return 125;
    }

    /* How the rest of the command's tree is killed: through its cgroup, held open from here, by the reaper's method. */
    char *kill_cgroup = setting("BOXLITE_KILL_CGROUP");
    if (kill_cgroup[0]) {
        cgroup = sys(SYS_openat, AT_FDCWD, kill_cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0);
        if (cgroup < 0) {
            say("cannot open the command's cgroup ", kill_cgroup, cgroup);
            return 125;
        }
        cgroup_kill = same(setting("BOXLITE_KILL_METHOD"), "cgroup.kill");
    }
    long max = number(setting("BOXLITE_LOG_MAX"));
    log_max = max < 0 ? 16777216 : (unsigned long)max;

    if (!handshake(pid)) return not_started();

    /* Nobody reads the monitor's own output from here on; what the box's command says goes to its log. */
    long null = sys(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | O_CLOEXEC, 0, 0);
    sys(SYS_dup3, null, 1, 0, 0, 0);
    sys(SYS_dup3, null, 2, 0, 0, 0);
    sys(SYS_close, null, 0, 0, 0, 0);
    log_fd = create_fresh("output.log", O_APPEND);
    struct stream out = { -1, 'o', 0 }, err = { -1, 'e', 0 };
    int o[2], e[2];
    unsigned long chld = 1UL << (SIGCHLD - 1);
    sys(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &chld, 0, sizeof chld, 0);
    long signals = sys(SYS_signalfd4, -1, &chld, sizeof chld, O_CLOEXEC, 0);
    long child = -1;
    if (signals >= 0 && sys(SYS_pipe2, o, O_CLOEXEC, 0, 0, 0) == 0 && sys(SYS_pipe2, e, O_CLOEXEC, 0, 0, 0) == 0)
        child = sys(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) start_command(args, o[1], e[1], input);
    if (child < 0) return not_started();
    sys(SYS_close, o[1], 0, 0, 0, 0);
    sys(SYS_close, e[1], 0, 0, 0, 0);
    if (input) sys(SYS_close, 3, 0, 0, 0, 0);
    out.fd = o[0], err.fd = e[0];
    write_number_file("child.pid", (unsigned long)child, 0);

    /*
     * One loop for every duty while the box runs: both output streams into the log in the order they arrive; the host
     * pipe of an attached box (EOF: the host is gone, so is the box: mark it, kill the command's tree); SIGCHLD (the
     * command's exit: kill what is left, then drain the output, boundedly).
     */
    long host = setting("BOXLITE_ATTACHED")[0] == '1' ? 0 : -1, deadline = 0;
    int status = 0, reaped = 0, host_gone = 0;
    while (!reaped || out.fd >= 0 || err.fd >= 0) {
        struct pollfd watch[4] = {
            { (int)out.fd, POLLIN, 0 }, { (int)err.fd, POLLIN, 0 },
            { reaped ? -1 : (int)host, POLLIN, 0 }, { reaped ? -1 : (int)signals, POLLIN, 0 },
        };
        struct timespec left = {0};
        if (reaped) {
            long ms = deadline - now_ms();
            if (ms <= 0) break;
            left.sec = ms / 1000, left.nsec = (ms % 1000) * 1000000;
        }
        long ready = sys(SYS_ppoll, watch, 4, reaped ? &left : 0, 0, 0);
        if (ready == -EINTR) continue;
        if (ready <= 0) break;
        if (watch[3].revents) {
            char info[128];
            sys(SYS_read, signals, info, sizeof info, 0, 0);
            if (sys(SYS_wait4, child, &status, WNOHANG, 0, 0) == child) {
                reaped = 1;
                kill_rest();
                deadline = now_ms() + DRAIN_MS;
            }
        }
        if (!reaped && watch[2].revents) {
            char ignored[64];
            long n = sys(SYS_read, host, ignored, sizeof ignored, 0, 0);
            if (n <= 0 && n != -EINTR) {
                host = -1, host_gone = 1;
                write_control("host-gone", "host-gone\n", 10);
                if (cgroup >= 0) kill_rest();
                else sys(SYS_kill, -child, SIGKILL, 0, 0, 0); /* no cgroup: the group the command leads (not reaped yet) */
            }
        }
        drain(&out, watch[0].revents);
        drain(&err, watch[1].revents);
    }
    if (!reaped) sys(SYS_wait4, child, &status, 0, 0, 0);

    /* The exit code, 128 + signal when a signal ended the command; then the monitor is done at once. */
    int code = (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
    write_number_file("exit", (unsigned long)code, host_gone ? "host-gone" : "");
    return 0;
}

/* exec: joins the running box's command containment, then becomes the command there. */
static int exec_into(char **args)
{
    if (join(setting("BOXLITE_JOIN"), sys(SYS_getpid, 0, 0, 0, 0, 0)) < 0) return 125;
    become(args);
}

__attribute__((noreturn, used)) void start(long *stack)
{
    long argc = stack[0];
    char **argv = (char **)(stack + 1);
    environment = argv + argc + 1;
    int code = 125;
    if (argc >= 3 && same(argv[1], "monitor")) code = monitor(argv + 2);
    else if (argc >= 3 && same(argv[1], "exec")) code = exec_into(argv + 2);
    else say("usage: boxlite-monitor monitor|exec [PREFIX...] COUNT NAME=VALUE... COMMAND [ARG...]", "", 0);
    sys(SYS_exit_group, code, 0, 0, 0, 0);
    __builtin_unreachable();
}
