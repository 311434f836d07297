/*
 * probe: the only program of the upgrade fixture's image (see README.md).
 * It prints what a test wants to check about the container it runs in, one
 * fact a line, then acts on its arguments in order:
 *   @PATH    print the contents of the file PATH
 *   exit=N   exit with code N after the other arguments
 *   wait     print "ready" and wait for a signal; on signal N print
 *            "caught signal N" and exit 0
 * anything else is only printed (as arg=...).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void caught(int sig)
{
	printf("caught signal %d\n", sig);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	char cwd[4096];
	int code = 0, wait = 0;

	printf("uid=%d gid=%d\n", (int)getuid(), (int)getgid());
	printf("cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
	for (int i = 1; i < argc; i++)
		printf("arg=%s\n", argv[i]);
	for (char **e = environ; *e; e++)
		printf("env=%s\n", *e);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '@') {
			char buf[4096];
			ssize_t n;
			int fd = open(argv[i] + 1, O_RDONLY);
			if (fd < 0) {
				printf("cannot open %s\n", argv[i] + 1);
				continue;
			}
			fflush(stdout);
			while ((n = read(fd, buf, sizeof buf)) > 0)
				write(1, buf, n);
			close(fd);
		} else if (strncmp(argv[i], "exit=", 5) == 0) {
			code = atoi(argv[i] + 5);
		} else if (strcmp(argv[i], "wait") == 0) {
			wait = 1;
		}
	}
	if (wait) {
		for (int s = 1; s < 32; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, caught);
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	fflush(stdout);
	return code;
}
