/* The initramfs's /init: PID 1 of the Linux kernel built by build.py.
 *
 * It greets, mounts /proc, runs each program of the list below (fork + execve +
 * waitpid) and reports how it ended, runs the fork- and mmap-heavy program last,
 * then syncs and powers off. Power-off goes through the kernel to SBI's system reset
 * (SRST), which OpenSBI carries out on the board's test device, so the emulator
 * stops with status 0 on its own.
 *
 * Every line it prints starts with "init: " so that the console can be checked for
 * it; the last one (FINAL_LINE) is what the artefact test looks for. Nothing here
 * depends on time or randomness: the console must be the same on every run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FINAL_LINE "init: all programs done, powering off"

struct program {
	const char *path;
	const char *const argv[5];
};

/* A few programs of the guest suite (scenarios/guests/bin, copied into /bin by
 * build.py) with the arguments of one of their recorded cases, then our own
 * fork/mmap workload. build.py reads this table to fill /bin. */
static const struct program programs[] = {
	{ "/bin/int-edge", { "int-edge", NULL } },
	{ "/bin/atomics", { "atomics", NULL } },
	{ "/bin/memory", { "memory", NULL } },
	{ "/bin/args-env", { "args-env", "one", "two words", "", NULL } },
	{ "/bin/exit-status", { "exit-status", "7", NULL } },
	{ "/bin/threads-join", { "threads-join", NULL } },
	{ "/bin/forkmap", { "forkmap", "24", NULL } },
};

/* args-env prints these two variables: set as in its recorded case (guests.json), so
 * that every program's output can be compared with the suite's expected files. */
static char *const environment[] = { "PATH=/bin", "VIRTLAB_TEST=1", "VIRTLAB_MODE=check", NULL };

/* Unbuffered, so that our lines and the children's output reach the console in the
 * order they happen. */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	for (int off = 0; off < n;) {
		ssize_t w = write(1, line + off, n - off);
		if (w <= 0 && errno != EINTR)
			return;
		if (w > 0)
			off += w;
	}
}

/* The kernel opens /dev/console for PID 1 only if the node exists; if it did not,
 * open it ourselves so that there is somewhere to print. */
static void console_fds(void)
{
	if (fcntl(1, F_GETFD) != -1)
		return;
	int fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return;
	while (fd < 2)
		fd = dup(fd);
}

static int run(const struct program *p)
{
	pid_t pid = fork();
	if (pid < 0) {
		say("init: fork for %s failed: %s", p->path, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execve(p->path, (char *const *)p->argv, environment);
		say("init: execve %s failed: %s", p->path, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			say("init: waitpid for %s failed: %s", p->path, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status))
		say("init: %s exited with status %d", p->argv[0], WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		say("init: %s killed by signal %d", p->argv[0], WTERMSIG(status));
	return status;
}

int main(void)
{
	console_fds();
	say("init: virtlab initramfs, PID %d", (int)getpid());
	if (mount("proc", "/proc", "proc", 0, NULL) == 0)
		say("init: mounted /proc");
	else
		say("init: no /proc: %s", strerror(errno));

	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
		run(&programs[i]);

	say(FINAL_LINE);
	sync();
	reboot(RB_POWER_OFF);
	/* Only if the kernel could not power off: PID 1 must not return. */
	say("init: power-off failed: %s", strerror(errno));
	for (;;)
		pause();
}
