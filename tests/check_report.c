// SPDX-License-Identifier: MIT
/*
 * Reports: where they are written (cmd/outfile.c: stdout, devices and FIFOs
 * in place, regular files through an O_EXCL temporary, symlinks followed)
 * with every other file in the directory proven untouched; paths refused
 * before a row runs; and real reports validated against the JUnit structure
 * Jenkins reads (tests/junit.xsd) and the JSON schema nvmerace ships
 * (man/nvmerace-report.schema.json), also for an interrupted run.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "outfile.h"
#include "report.h"
#include "suite_main.h"

static const char *bin(void)
{
	const char *b = getenv("NVR");

	return b ? b : "./nvmerace";
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void mkscratch(char *dir)
{
	strcpy(dir, "/tmp/nvr-report-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* Traversable by the unprivileged child of the read-only test. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static void rmscratch(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* What a directory holds: each name with what lstat and readlink say of it. */
struct snap {
	size_t n;
	struct {
		char name[256];
		struct stat st;
		char link[256];
	} e[32];
};

static void snapshot(const char *dir, struct snap *s)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	memset(s, 0, sizeof(*s));
	while ((de = readdir(d))) {
		char p[512];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ck_assert_uint_lt(s->n, 32);
		snprintf(s->e[s->n].name, sizeof(s->e[s->n].name), "%s", de->d_name);
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ck_assert_int_eq(lstat(p, &s->e[s->n].st), 0);
		if (S_ISLNK(s->e[s->n].st.st_mode))
			ck_assert_int_gt(readlink(p, s->e[s->n].link, sizeof(s->e[0].link) - 1),
					 0);
		s->n++;
	}
	closedir(d);
}

/*
 * Every entry of @before is in @after, the same inode, type, size and mtime,
 * symlinks pointing where they did, except @changed (NULL: none), which must
 * still be there; @after has nothing more.
 */
static void same_but(const struct snap *before, const struct snap *after, const char *changed)
{
	ck_assert_uint_eq(before->n, after->n);
	for (size_t i = 0; i < before->n; i++) {
		size_t j;

		for (j = 0; j < after->n && strcmp(before->e[i].name, after->e[j].name); j++)
			;
		ck_assert_msg(j < after->n, "%s went away", before->e[i].name);
		if (changed && !strcmp(changed, before->e[i].name))
			continue;
		ck_assert_msg(before->e[i].st.st_ino == after->e[j].st.st_ino &&
			      before->e[i].st.st_mode == after->e[j].st.st_mode &&
			      before->e[i].st.st_size == after->e[j].st.st_size &&
			      before->e[i].st.st_rdev == after->e[j].st.st_rdev &&
			      before->e[i].st.st_mtim.tv_nsec == after->e[j].st.st_mtim.tv_nsec &&
			      before->e[i].st.st_mtim.tv_sec == after->e[j].st.st_mtim.tv_sec,
			      "%s changed", before->e[i].name);
		ck_assert_str_eq(before->e[i].link, after->e[j].link);
	}
}

static const char text[] = "{ \"report\": 1 }\n";

START_TEST(test_new_and_regular_file)
{
	char dir[64], p[128], got[256];
	struct snap a, b;
	struct stat st;
	mode_t mask = umask(022);

	mkscratch(dir);
	snprintf(p, sizeof(p), "%s/r.json", dir);
	write_text(strcat(strcpy(got, dir), "/other"), "other\n");
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(p, got, sizeof(got)), 0);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	read_text(p, got, sizeof(got));
	ck_assert_str_eq(got, text);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	snapshot(dir, &b);
	/* The new file, and no temporary left behind. */
	ck_assert_uint_eq(b.n, a.n + 1);

	/* An existing file is replaced whole, and keeps its mode. */
	ck_assert_int_eq(chmod(p, 0600), 0);
	write_text(p, "an older and much longer report than the one that replaces it\n");
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	read_text(p, got, sizeof(got));
	ck_assert_str_eq(got, text);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	snapshot(dir, &b);
	same_but(&a, &b, "r.json");
	umask(mask);
	rmscratch(dir);
}
END_TEST

/* A symlink at PATH is followed: its target is replaced, the link stays; temporaries never
 * follow the symlinks waiting at the names a careless writer would use. */
START_TEST(test_symlinks)
{
	char dir[64], p[128], target[128], victim[128], trap[128], got[256];
	struct snap a, b;
	struct stat st;

	mkscratch(dir);
	snprintf(p, sizeof(p), "%s/r.json", dir);
	snprintf(target, sizeof(target), "%s/real.json", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	write_text(target, "old\n");
	write_text(victim, "precious\n");
	ck_assert_int_eq(symlink("real.json", p), 0);
	for (const char *const *n = (const char *const[]){ "r.json.tmp", "real.json.tmp",
							   ".r.json.tmp", ".real.json.tmp", NULL };
	     *n; n++) {
		snprintf(trap, sizeof(trap), "%s/%s", dir, *n);
		ck_assert_int_eq(symlink(victim, trap), 0);
	}
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(p, got, sizeof(got)), 0);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	ck_assert_int_eq(lstat(p, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	read_text(target, got, sizeof(got));
	ck_assert_str_eq(got, text);
	read_text(victim, got, sizeof(got));
	ck_assert_str_eq(got, "precious\n");
	snapshot(dir, &b);
	same_but(&a, &b, "real.json");

	/* A symlink to nothing is refused: where it points is not ours to create. */
	snprintf(trap, sizeof(trap), "%s/dangling", dir);
	ck_assert_int_eq(symlink("nowhere/x", trap), 0);
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(trap, got, sizeof(got)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(got, "symlink"));
	ck_assert_int_lt(outfile_write(trap, text, strlen(text)), 0);
	snapshot(dir, &b);
	same_but(&a, &b, NULL);
	rmscratch(dir);
}
END_TEST

/* A character device (a copy of /dev/null) is written in place, never renamed over. */
START_TEST(test_char_device)
{
	char dir[64], p[128], msg[256];
	struct snap a, b;
	struct stat null, st;

	mkscratch(dir);
	ck_assert_int_eq(stat("/dev/null", &null), 0);
	snprintf(p, sizeof(p), "%s/null", dir);
	if (mknod(p, S_IFCHR | 0666, null.st_rdev)) {
		/* Not allowed to make one (not root): /dev/null itself, read back by stat. */
		ck_assert_int_ne(geteuid(), 0);
		snprintf(p, sizeof(p), "/dev/null");
	}
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(p, msg, sizeof(msg)), 0);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(st.st_rdev, null.st_rdev);
	snapshot(dir, &b);
	same_but(&a, &b, NULL);
	rmscratch(dir);
}
END_TEST

/* A FIFO with a reader gets the report through it; it stays a FIFO. */
START_TEST(test_fifo)
{
	char dir[64], p[128], msg[256], got[256] = "";
	int pp[2], st;
	struct snap a, b;
	struct stat fst;
	pid_t pid;

	mkscratch(dir);
	snprintf(p, sizeof(p), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_int_eq(pipe(pp), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		/* The reader: all it gets goes back up the pipe. */
		int fd = open(p, O_RDONLY);
		ssize_t n;

		close(pp[0]);
		while (fd >= 0 && (n = read(fd, got, sizeof(got))) > 0)
			if (write(pp[1], got, (size_t)n) != n)
				_exit(2);
		_exit(fd < 0);
	}
	close(pp[1]);
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(p, msg, sizeof(msg)), 0);
	/* open() for writing waits for the reader: no sleep needed. */
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq((int)read(pp[0], got, sizeof(got) - 1), (int)strlen(text));
	got[strlen(text)] = '\0';
	ck_assert_str_eq(got, text);
	close(pp[0]);
	ck_assert_int_eq(lstat(p, &fst), 0);
	ck_assert(S_ISFIFO(fst.st_mode));
	/* The same FIFO (a write moves its mtime), and nothing else. */
	ck_assert_uint_eq(fst.st_ino, a.e[0].st.st_ino);
	snapshot(dir, &b);
	same_but(&a, &b, "fifo");
	rmscratch(dir);
}
END_TEST

/* /dev/stdout and /dev/fd/N are the descriptors themselves; a socket is refused, untouched. */
START_TEST(test_descriptors_and_socket)
{
	char dir[64], p[128], msg[256], got[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct snap a, b;
	int pp[2], s;

	mkscratch(dir);
	ck_assert_int_eq(pipe(pp), 0);
	snprintf(p, sizeof(p), "/dev/fd/%d", pp[1]);
	ck_assert_int_eq(outfile_check(p, msg, sizeof(msg)), 0);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	close(pp[1]);
	ck_assert_int_eq((int)read(pp[0], got, sizeof(got) - 1), (int)strlen(text));
	close(pp[0]);
	ck_assert_int_eq(outfile_check("/dev/fd/999", msg, sizeof(msg)), -EBADF);

	/* A symlink to a pipe's descriptor, as /dev/stdout is one: written in place. */
	ck_assert_int_eq(pipe(pp), 0);
	snprintf(p, sizeof(p), "%s/out", dir);
	snprintf(got, sizeof(got), "/proc/self/fd/%d", pp[1]);
	ck_assert_int_eq(symlink(got, p), 0);
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_write(p, text, strlen(text)), 0);
	close(pp[1]);
	ck_assert_int_eq((int)read(pp[0], got, sizeof(got) - 1), (int)strlen(text));
	close(pp[0]);
	snapshot(dir, &b);
	same_but(&a, &b, NULL);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snapshot(dir, &a);
	ck_assert_int_eq(outfile_check(sa.sun_path, msg, sizeof(msg)), -ENXIO);
	ck_assert_int_eq(outfile_write(sa.sun_path, text, strlen(text)), -ENXIO);
	snapshot(dir, &b);
	same_but(&a, &b, NULL);
	close(s);
	rmscratch(dir);
}
END_TEST

/*
 * Paths refused before anything is written. Root writes into a mode 0555
 * directory whatever its bits say, so the read-only case runs in a child
 * that gave up root (uid nobody): there the bits hold, and the check must
 * say so. A path below a regular file stops root too.
 */
START_TEST(test_refused_paths)
{
	char dir[64], ro[128], p[160], msg[256];
	struct snap a, b;
	int st;
	pid_t pid;

	mkscratch(dir);
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	ck_assert_int_eq(mkdir(ro, 0555), 0);
	snprintf(p, sizeof(p), "%s/r.json", ro);
	snapshot(ro, &a);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		if (!geteuid() && (setgid(65534) || setuid(65534)))
			_exit(10);
		if (outfile_check(p, msg, sizeof(msg)) != -EACCES || !strstr(msg, "not writable"))
			_exit(11);
		_exit(outfile_write(p, text, strlen(text)) == -EACCES ? 0 : 12);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", st);
	snapshot(ro, &b);
	same_but(&a, &b, NULL);

	snprintf(p, sizeof(p), "%s/file", dir);
	write_text(p, "x\n");
	strcat(p, "/r.json");
	ck_assert_int_lt(outfile_check(p, msg, sizeof(msg)), 0);
	ck_assert_int_lt(outfile_write(p, text, strlen(text)), 0);
	ck_assert_int_eq(outfile_check("--list", msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "option"));
	ck_assert_int_eq(outfile_check(dir, msg, sizeof(msg)), -EISDIR);
	ck_assert_int_eq(outfile_check("-", msg, sizeof(msg)), 0);
	rmscratch(dir);
}
END_TEST

/* Run the binary with @argv (NULL-terminated, without argv[0]); stdout and stderr to files. */
static int run_bin(const char *dir, const char *const *argv, int sig_after_seed)
{
	char *args[32], out[160], err[160], line[256];
	int i = 0, st, p[2];
	pid_t pid;

	snprintf(out, sizeof(out), "%s/stdout", dir);
	snprintf(err, sizeof(err), "%s/stderr", dir);
	args[i++] = (char *)bin();
	while (*argv && i < 31)
		args[i++] = (char *)*argv++;
	args[i] = NULL;
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(o, 1);
		dup2(sig_after_seed ? p[1] : open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
		close(p[0]);
		execv(args[0], args);
		_exit(127);
	}
	close(p[1]);
	if (sig_after_seed) {
		/* The seed line comes before the first row: a signal then stops the run. */
		FILE *f = fdopen(p[0], "r");

		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		ck_assert_msg(strstr(line, "nvmerace: seed"), "%s", line);
		ck_assert_int_eq(kill(pid, sig_after_seed), 0);
		while (fgets(line, sizeof(line), f))
			;
		fclose(f);
	} else {
		close(p[0]);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define RUN_BIN(dir, sig, ...) run_bin(dir, (const char *const[]){ __VA_ARGS__, NULL }, sig)

static const char small_scn[] =
	"name: small\n"
	"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
	"actors:\n"
	"  - name: io\n"
	"    steps: [ { submit: { queue: 1, op: mix, qd: 8, count: 500, verify: true } } ]\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"timeouts: { command_ms: 10000, stall_ms: 10000 }\n"
	"matrix:\n"
	"  - { name: clean, expect: { lost: 0, duplicate: 0 } }\n"
	"  - { name: wrong, expect: { lost: \">0\" } }\n";

/* Rows of a minute each: a signal lands in the first, the others never run. */
static const char long_scn[] =
	"name: long\n"
	"queues: [ { id: 1, depth: 32, vector: 1 } ]\n"
	"actors:\n"
	"  - name: io\n"
	"    steps: [ { submit: { queue: 1, op: read, qd: 4, duration_ms: 60000 } } ]\n"
	"  - { name: isr, steps: [ { reap: { queue: 1, wake: irq } } ] }\n"
	"timeouts: { command_ms: 10000, stall_ms: 10000 }\n"
	"matrix:\n"
	"  - { name: a, expect: { lost: 0 } }\n"
	"  - { name: b, expect: { lost: 0 } }\n"
	"  - { name: c, expect: { lost: 0 } }\n";

/* Both validators: a missing one fails (make check installs them). */
static void validate(const char *js, const char *xml)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema tests/junit.xsd '%s'", xml);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json, sys, jsonschema\n"
		 "s = json.load(open(\"man/nvmerace-report.schema.json\"))\n"
		 "jsonschema.Draft202012Validator.check_schema(s)\n"
		 "jsonschema.Draft202012Validator(s).validate(json.load(open(sys.argv[1])))' '%s'",
		 js);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
	return v;
}

START_TEST(test_reports_validate)
{
	char dir[64], scn[128], js[128], xml[128], buf[65536];
	struct json_object *j, *rows, *e, *t;
	int st;

	mkscratch(dir);
	snprintf(scn, sizeof(scn), "%s/small.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	snprintf(xml, sizeof(xml), "%s/r.xml", dir);
	write_text(scn, small_scn);
	st = RUN_BIN(dir, 0, "run", "--seed", "9", "--json", js, "--junit", xml, scn,
		     "scenarios/clean-soak.yaml", "--only", "small", "--only", "clean-soak/no-pba",
		     "--duration", "200");
	ck_assert_int_eq(st, 1);
	validate(js, xml);

	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_object_get_string(get(j, "schema")), REPORT_SCHEMA);
	ck_assert_str_eq(json_object_get_string(get(get(j, "device"), "kind")), "sim");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(get(j, "command"), 1)),
			 "run");
	t = get(j, "totals");
	ck_assert_int_eq(json_object_get_int(get(t, "rows")), 3);
	ck_assert_int_eq(json_object_get_int(get(t, "fail")), 1);
	ck_assert_int_eq(json_object_get_int(get(t, "pass_clean")), 2);
	rows = get(j, "scenarios");
	e = json_object_array_get_idx(rows, 1);
	ck_assert_str_eq(json_object_get_string(get(get(e, "expect"), "lost")), ">0");
	ck_assert_msg(strstr(json_object_get_string(get(e, "replay")),
				     "--seed 9 --duration 200 --only small/wrong "), "%s", json_object_get_string(get(e, "replay")));
	ck_assert(!json_object_get_boolean(get(e, "details_truncated")));
	json_object_put(j);

	/* One testsuite per file. */
	read_text(xml, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "<testsuite name=\"scenarios/clean-soak.yaml\""));
	ck_assert_ptr_nonnull(strstr(buf, "replay: nvmerace run --seed 9"));
	ck_assert_ptr_null(strstr(buf, "<testsuites skipped"));
	read_text(strcat(strcpy(buf, dir), "/stdout"), buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "2 clean, 0 caught, 1 failed, 0 skipped, 0 errors"), "%s", buf);
	rmscratch(dir);
}
END_TEST

/* An interrupted run: the row stopped and the rows never run are all in both reports. */
START_TEST(test_interrupted_report)
{
	char dir[64], scn[128], js[128], xml[128], buf[65536];
	struct json_object *j, *rows;
	const char *p;
	int st, cases = 0;

	mkscratch(dir);
	snprintf(scn, sizeof(scn), "%s/long.yaml", dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	snprintf(xml, sizeof(xml), "%s/r.xml", dir);
	write_text(scn, long_scn);
	/* --repeat: the rows left still show once each, not once per repeat. */
	st = RUN_BIN(dir, SIGINT, "run", "--repeat", "100000", "--json", js, "--junit", xml, scn);
	ck_assert_int_eq(st, 130);
	validate(js, xml);
	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	rows = get(j, "scenarios");
	ck_assert_int_eq((int)json_object_array_length(rows), 3);
	ck_assert_int_ge(json_object_get_int(get(get(j, "totals"), "not_run")), 2);
	ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(rows, 2), "verdict")),
			 "not_run");
	ck_assert(json_object_is_type(get(json_object_array_get_idx(rows, 2), "commands"),
				      json_type_null));
	json_object_put(j);
	/* No testcase passes: each says error (interrupted) or skipped (not run). */
	read_text(xml, buf, sizeof(buf));
	for (p = buf; (p = strstr(p, "<testcase ")); p++) {
		const char *end = strstr(p, "</testcase>");

		ck_assert_ptr_nonnull(end);
		ck_assert_msg((strstr(p, "<error") && strstr(p, "<error") < end) ||
			      (strstr(p, "<skipped") && strstr(p, "<skipped") < end), "%.*s",
			      (int)(end - p), p);
		cases++;
	}
	ck_assert_int_eq(cases, 3);
	ck_assert_ptr_nonnull(strstr(buf, "not run"));
	read_text(strcat(strcpy(buf, dir), "/stdout"), buf, sizeof(buf));
	ck_assert_msg(strstr(buf, " not run (interrupted)"), "%s", buf);
	rmscratch(dir);
}
END_TEST

/* Built in-process: a row's own replay line wins everywhere, capped details are flagged,
 * "stopped early" is explained once, and both files still validate. */
START_TEST(test_entries)
{
	char dir[64], js[128], xml[128], buf[65536], *out = NULL;
	struct report r = { 0 };
	struct nvr_result *res = calloc(1, sizeof(*res));
	struct json_object *j, *rows, *e;
	size_t len = 0;
	FILE *f;

	ck_assert_ptr_nonnull(res);
	mkscratch(dir);
	snprintf(js, sizeof(js), "%s/r.json", dir);
	snprintf(xml, sizeof(xml), "%s/r.xml", dir);
	clock_gettime(CLOCK_REALTIME, &r.start);
	r.bdf = "0000:01:00.0";

	/* A failed row with more anomalies than records, that stopped early. */
	snprintf(res->scenario, sizeof(res->scenario), "s");
	snprintf(res->row, sizeof(res->row), "bad");
	snprintf(res->reason, sizeof(res->reason), "duplicate 40, expected 0");
	res->verdict = NVR_FAIL;
	res->seed = 3;
	res->stats.completed = 10;
	res->stats.anomalies[NVR_AN_DUPLICATE] = 40;
	res->nr_anomalies = 32;
	for (int i = 0; i < 32; i++)
		res->anomalies[i] = (struct nvr_anomaly){ .cls = NVR_AN_DUPLICATE, .qid = 1,
							  .cid = i, .vector = -1 };
	res->unfinished = 4;
	ck_assert_int_eq(report_add(&r, "s.yaml", res), 0);
	report_expect(&r, &(struct nvr_row){ .expect[NVR_AN_DUPLICATE] = { NVR_CMP_EQ, 0 } });
	snprintf(r.e[0].replay, sizeof(r.e[0].replay),
		 "nvmerace run --seed 3 --set a.b=1 --duration 50 --only 's/bad' s.yaml");
	/* A caught pass, interrupted, also stopped early; then a row that never ran. */
	snprintf(res->row, sizeof(res->row), "caught");
	res->verdict = NVR_PASS;
	res->interrupted = true;
	res->stats.anomalies[NVR_AN_DUPLICATE] = 1;
	res->nr_anomalies = 1;
	ck_assert_int_eq(report_add(&r, "s.yaml", res), 0);
	ck_assert_int_eq(report_add_not_run(&r, "t.yaml", "t", "", 3), 0);
	r.interrupted = true;

	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	report_failures(f, &r, "nvmerace");
	report_totals(f, &r);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(strstr(out, "  replay: nvmerace run --seed 3 --set a.b=1 --duration 50"),
		      "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"stopped early\""));
	ck_assert_ptr_null(strstr(strstr(out, "\"stopped early\"") + 1, "\"stopped early\""));
	ck_assert_msg(strstr(out, "0 clean, 1 caught, 1 failed, 0 skipped, 0 errors, 1 not run "
				   "(interrupted)"), "%s", out);
	free(out);

	ck_assert_int_eq(report_json(&r, js), 0);
	ck_assert_int_eq(report_junit(&r, xml), 0);
	validate(js, xml);
	j = json_object_from_file(js);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_object_get_string(get(get(j, "device"), "bdf")), "0000:01:00.0");
	ck_assert(json_object_is_type(get(j, "command"), json_type_null));
	rows = get(j, "scenarios");
	e = json_object_array_get_idx(rows, 0);
	ck_assert(json_object_get_boolean(get(e, "details_truncated")));
	ck_assert_int_eq((int)json_object_array_length(get(e, "details")), 32);
	ck_assert(json_object_is_type(get(json_object_array_get_idx(get(e, "details"), 0),
					  "vector"), json_type_null));
	ck_assert_str_eq(json_object_get_string(get(e, "replay")), r.e[0].replay);
	ck_assert_str_eq(json_object_get_string(get(get(e, "expect"), "duplicate")), "0");
	e = json_object_array_get_idx(rows, 1);
	ck_assert(json_object_get_boolean(get(e, "caught")));
	ck_assert(!json_object_get_boolean(get(e, "details_truncated")));
	/* A row that ran with no replay line cannot be replayed (a fault by hand). */
	ck_assert_str_eq(json_object_get_string(get(e, "replay")),
			 "none: this row cannot be replayed");
	ck_assert_int_eq(json_object_get_int(get(get(j, "totals"), "pass_caught")), 1);
	json_object_put(j);
	read_text(xml, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "replay: nvmerace run --seed 3 --set a.b=1 "
				     "--duration 50"));
	ck_assert_ptr_nonnull(strstr(buf, "type=\"interrupted\""));
	ck_assert_ptr_nonnull(strstr(buf, "<testsuite name=\"t.yaml\""));
	ck_assert_ptr_nonnull(strstr(buf, "<skipped message=\"not run"));
	report_release(&r);
	free(res);
	rmscratch(dir);
}
END_TEST

/* Bad report paths stop the run before any row: nothing written, nothing run. */
START_TEST(test_cli_refuses_before_running)
{
	char dir[64], scn[128], p[160], buf[4096];
	struct json_object *j;
	struct snap a, b;

	mkscratch(dir);
	snprintf(scn, sizeof(scn), "%s/small.yaml", dir);
	write_text(scn, small_scn);
	ck_assert_int_eq(RUN_BIN(dir, 0, "run", "--json", "--list", scn), 2);
	read_text(strcat(strcpy(buf, dir), "/stderr"), buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "nvmerace: cannot write the JSON report to '--list': looks like "
			      "an option"), "%s", buf);
	snprintf(p, sizeof(p), "%s/none/r.xml", dir);
	ck_assert_int_eq(RUN_BIN(dir, 0, "run", "--junit", p, scn), 2);
	read_text(strcat(strcpy(buf, dir), "/stdout"), buf, sizeof(buf));
	ck_assert_msg(!strstr(buf, "PASS") && !strstr(buf, "FAIL"), "a row ran: %s", buf);
	/* Both reports on stdout, or in one file, cannot be told apart. */
	ck_assert_int_eq(RUN_BIN(dir, 0, "run", "--json", "-", "--junit", "-", scn), 2);
	snprintf(p, sizeof(p), "%s/r", dir);
	ck_assert_int_eq(RUN_BIN(dir, 0, "run", "--json", p, "--junit", p, scn), 2);
	ck_assert_int_eq(access(p, F_OK), -1);

	/* --json -: the report alone on stdout, the text on stderr. */
	snapshot(dir, &a);
	ck_assert_int_eq(RUN_BIN(dir, 0, "run", "--only", "small/clean", "--json", "-", scn), 0);
	snprintf(p, sizeof(p), "%s/stdout", dir);
	j = json_object_from_file(p);
	ck_assert_msg(j != NULL, "stdout is not JSON");
	json_object_put(j);
	snapshot(dir, &b);
	ck_assert_uint_eq(a.n, b.n);
	rmscratch(dir);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("outfile");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_new_and_regular_file);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_char_device);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_descriptors_and_socket);
	tcase_add_test(tc, test_refused_paths);
	tcase_add_test(tc, test_entries);
	suite_add_tcase(s, tc);
	tc = tcase_create("cli");
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, test_reports_validate);
	tcase_add_test(tc, test_interrupted_report);
	tcase_add_test(tc, test_cli_refuses_before_running);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(report_suite());
}
