/*
 * The few Linux system calls of boxlite-monitor, raw, for x86_64 and aarch64. No C library: one static binary per
 * architecture runs on every Linux, whatever C library (or none) the host has.
 */
#ifndef BOXLITE_SYS_H
#define BOXLITE_SYS_H

#if defined(__x86_64__)
enum {
    SYS_read = 0, SYS_write = 1, SYS_close = 3, SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14, SYS_writev = 20,
    SYS_getpid = 39, SYS_clone = 56, SYS_execve = 59, SYS_wait4 = 61, SYS_kill = 62, SYS_chdir = 80, SYS_umask = 95,
    SYS_setpgid = 109, SYS_clock_gettime = 228, SYS_exit_group = 231, SYS_openat = 257, SYS_newfstatat = 262,
    SYS_unlinkat = 263, SYS_ppoll = 271, SYS_signalfd4 = 289, SYS_dup3 = 292, SYS_pipe2 = 293, SYS_renameat2 = 316,
    SYS_getdents64 = 217, SYS_close_range = 436,
};
enum { O_DIRECTORY = 0200000, O_NOFOLLOW = 0400000 };

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}

/* The kernel enters with the stack pointer at argc; main gets that address on a 16-byte aligned stack. */
__asm__(".text\n.global _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n and $-16, %rsp\n call start\n hlt\n");

#elif defined(__aarch64__)
enum {
    SYS_read = 63, SYS_write = 64, SYS_close = 57, SYS_rt_sigaction = 134, SYS_rt_sigprocmask = 135, SYS_writev = 66,
    SYS_getpid = 172, SYS_clone = 220, SYS_execve = 221, SYS_wait4 = 260, SYS_kill = 129, SYS_chdir = 49, SYS_umask = 166,
    SYS_setpgid = 154, SYS_clock_gettime = 113, SYS_exit_group = 94, SYS_openat = 56, SYS_newfstatat = 79,
    SYS_unlinkat = 35, SYS_ppoll = 73, SYS_signalfd4 = 74, SYS_dup3 = 24, SYS_pipe2 = 59, SYS_renameat2 = 276,
    SYS_getdents64 = 61, SYS_close_range = 436,
};
enum { O_DIRECTORY = 040000, O_NOFOLLOW = 0100000 };

static inline long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}

__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n bl start\n brk #0\n");

#else
#error "boxlite-monitor is built for x86_64 and aarch64"
#endif

/* A failed call returns -errno. */
#define sys(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

enum {
    O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0100, O_EXCL = 0200, O_NOCTTY = 0400, O_APPEND = 02000, O_CLOEXEC = 02000000,
    AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100,
    EINTR = 4, ENOENT = 2, EACCES = 13, EEXIST = 17, ENOEXEC = 8, ENOSYS = 38,
    SIGKILL = 9, SIGCHLD = 17, SIGSTOP = 19, SIG_SETMASK = 2, NSIG = 64,
    POLLIN = 1, WNOHANG = 1, CLOCK_MONOTONIC = 1, DT_DIR = 4,
};

struct pollfd { int fd; short events, revents; };
struct timespec { long sec, nsec; };
struct iovec { const void *base; unsigned long len; };
struct dirent64 { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; };

/* The compiler may emit calls to these even in freestanding code (struct copies, zeroed arrays). */
void *memset(void *d, int c, unsigned long n)
{
    unsigned char *p = d;
    while (n--) *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--) *p++ = *q++;
    return d;
}

#endif
