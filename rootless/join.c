// The constructor below runs before the Go runtime starts any thread. A
// process can only setns(2) into a user namespace while single-threaded, so
// this is the one place where a rootless berth can join the namespace held
// by the per-user pause process (the same approach as podman and runc).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char join_error[512];
static long joined_pid;
static unsigned joined_uid, joined_gid;

const char *berth_join_error(void) { return join_error; }

// The Go runtime takes its environment from the process' initial stack, so
// setenv(3) here would not be seen: Go reads what happened through these.
long berth_joined_pid(void) { return joined_pid; }
unsigned berth_joined_uid(void) { return joined_uid; }
unsigned berth_joined_gid(void) { return joined_gid; }

// Commands that never touch storage, so they do not need the namespace.
static int command_needs_userns(int argc, char **argv) {
	// berth's global flags that take a value ("--root DIR"): the word after
	// one is its value, not the command name. Keep it equal to the flags of
	// cmd/berth/root.go (TestJoinKnowsGlobalFlags checks it).
	static const char *with_value[] = {
		"--root", "--runroot", "--storage-driver", "--storage-opt", "--runtime",
		"--runtime-flag", "--log-level", "--config", "--registries-conf", NULL,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0)
			return 0;
		if (a[0] == '-') {
			if (strchr(a, '=') != NULL)
				continue;
			for (int j = 0; with_value[j] != NULL; j++) {
				if (strcmp(a, with_value[j]) == 0) {
					i++;
					break;
				}
			}
			continue;
		}
		if (strcmp(a, "version") == 0 || strcmp(a, "help") == 0 || strcmp(a, "completion") == 0 ||
		    strcmp(a, "__pause") == 0 || strcmp(a, "login") == 0 || strcmp(a, "logout") == 0)
			return 0;
		return 1;
	}
	return 0; // bare "berth" prints help
}

// berth_pause_pid_path mirrors rootless.PausePidPath in Go.
int berth_pause_pid_path(char *buf, size_t len) {
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	uid_t uid = getuid();
	if (xdg != NULL && xdg[0] != '\0')
		return snprintf(buf, len, "%s/berth/pause.pid", xdg) < (int)len ? 0 : -1;
	char run[64];
	struct stat st;
	snprintf(run, sizeof run, "/run/user/%u", uid);
	if (stat(run, &st) == 0 && st.st_uid == uid && (st.st_mode & 0022) == 0)
		return snprintf(buf, len, "%s/berth/pause.pid", run) < (int)len ? 0 : -1;
	const char *tmp = getenv("TMPDIR");
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/berth-run-%u", tmp, uid) >= (int)sizeof dir)
		return -1;
	// The fallback name is predictable: a directory another user made (or
	// can write to) is not trusted; the Go side refuses it with a message.
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 0022) != 0)
		return -1;
	return snprintf(buf, len, "%s/pause.pid", dir) < (int)len ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t len) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

// is_pause_process guards against a recycled pid: the process must be ours
// and must be "berth __pause".
static int is_pause_process(long pid) {
	char path[64], cmd[256];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%ld", pid);
	if (stat(path, &st) != 0 || st.st_uid != getuid())
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
	int n = read_file(path, cmd, sizeof cmd);
	if (n <= 0)
		return 0;
	size_t first = strlen(cmd);
	return (int)first + 1 < n && strcmp(cmd + first + 1, "__pause") == 0;
}

static void __attribute__((constructor)) berth_join_userns(int argc, char **argv) {
	if (geteuid() == 0)
		return;
	const char *reexec = getenv("_BERTH_REEXEC");
	if ((reexec == NULL || reexec[0] == '\0') && !command_needs_userns(argc, argv))
		return;

	char pidfile[4096], buf[64];
	if (berth_pause_pid_path(pidfile, sizeof pidfile) != 0 || read_file(pidfile, buf, sizeof buf) <= 0)
		return; // no pause process yet: the Go side creates one and re-executes
	long pid = strtol(buf, NULL, 10);
	if (pid <= 0 || !is_pause_process(pid))
		return; // stale pid file: the Go side replaces it

	char path[64];
	char cwd[4096];
	int have_cwd = getcwd(cwd, sizeof cwd) != NULL;
	uid_t uid = getuid();
	gid_t gid = getgid();
	snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
	int userfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%ld/ns/mnt", pid);
	int mntfd = open(path, O_RDONLY | O_CLOEXEC);
	if (userfd < 0 || mntfd < 0) {
		snprintf(join_error, sizeof join_error, "opening namespaces of pause process %ld: %s", pid, strerror(errno));
		goto out;
	}
	if (setns(userfd, CLONE_NEWUSER) != 0) {
		snprintf(join_error, sizeof join_error, "joining user namespace of pause process %ld: %s", pid, strerror(errno));
		goto out;
	}
	if (setns(mntfd, CLONE_NEWNS) != 0) {
		snprintf(join_error, sizeof join_error, "joining mount namespace of pause process %ld: %s", pid, strerror(errno));
		goto out;
	}
	// Entering a mount namespace moves us to its root: go back to where the
	// user was, so relative paths keep working.
	if (have_cwd && chdir(cwd) != 0) {
		snprintf(join_error, sizeof join_error, "returning to %s in the user namespace: %s", cwd, strerror(errno));
		goto out;
	}
	if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
		snprintf(join_error, sizeof join_error, "becoming root in the user namespace of pause process %ld: %s", pid, strerror(errno));
		goto out;
	}
	joined_pid = pid;
	joined_uid = uid;
	joined_gid = gid;
out:
	if (userfd >= 0)
		close(userfd);
	if (mntfd >= 0)
		close(mntfd);
}
