/* SPDX-License-Identifier: MIT */
/*
 * Running the nvmerace binary ($NVR, else ./nvmerace) as a child process from
 * a Check suite: its exit status, standard output and standard error.
 */
#ifndef NVR_TESTS_RUN_BIN_H
#define NVR_TESTS_RUN_BIN_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

struct out {
	int status;		/* exit status, or 128 + signal */
	char out[65536];
	char err[16384];
};

__attribute__((unused)) static const char *bin(void)
{
	const char *b = getenv("NVR");

	return b ? b : "./nvmerace";
}

__attribute__((unused)) static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, len - 1 - n)) > 0 && n + (size_t)r < len - 1)
		n += (size_t)r;
	buf[n] = '\0';
}

/* Run @args (args[0] the program), standard input from @in_path (NULL: /dev/null). */
__attribute__((unused)) static void run_argv(struct out *o, char *const *args, const char *in_path)
{
	char ofile[] = "/tmp/nvr-cli-out-XXXXXX", efile[] = "/tmp/nvr-cli-err-XXXXXX";
	int ofd = mkstemp(ofile), efd = mkstemp(efile), st;
	pid_t pid;

	ck_assert(ofd >= 0 && efd >= 0);
	pid = fork();
	ck_assert(pid >= 0);
	if (!pid) {
		int ifd = open(in_path ? in_path : "/dev/null", O_RDONLY);

		dup2(ifd, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(args[0], args);
		_exit(127);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	slurp(ofd, o->out, sizeof(o->out));
	slurp(efd, o->err, sizeof(o->err));
	close(ofd);
	close(efd);
	unlink(ofile);
	unlink(efile);
}

/* Run nvmerace with @argv (NULL-terminated, without argv[0]), stdin from @in_path. */
__attribute__((unused)) static void run_in(struct out *o, const char *in_path, const char *const *argv)
{
	char *args[64];
	int i = 0;

	args[i++] = (char *)bin();
	while (*argv && i < 63)
		args[i++] = (char *)*argv++;
	args[i] = NULL;
	run_argv(o, args, in_path);
}

__attribute__((unused)) static void run(struct out *o, const char *const *argv)
{
	run_in(o, NULL, argv);
}

/*
 * Start nvmerace with @argv (without argv[0]), standard input and output on
 * /dev/null, its standard error a pipe read through the returned stream, for a
 * test that acts on what the command logs while it runs. *@pid: to wait for.
 */
__attribute__((unused)) static FILE *spawn_err(const char *const *argv, pid_t *pid)
{
	char *args[64];
	int p[2], i = 0;

	args[i++] = (char *)bin();
	while (*argv && i < 63)
		args[i++] = (char *)*argv++;
	args[i] = NULL;
	ck_assert(pipe(p) == 0);
	*pid = fork();
	ck_assert(*pid >= 0);
	if (!*pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(p[1], 2);
		close(p[0]);
		execv(args[0], args);
		_exit(127);
	}
	close(p[1]);
	return fdopen(p[0], "r");
}

#define RUN(o, ...) run(o, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_IN(o, in, ...) run_in(o, in, (const char *const[]){ __VA_ARGS__, NULL })

#endif
