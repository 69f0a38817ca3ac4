/*
 * askpass.c - passphrases of encrypted key files, as ssh asks for them:
 * on the terminal (/dev/tty, echo off) while sftpmnt has one, or through
 * the program SSH_ASKPASS names (ssh's convention: used without a
 * terminal when DISPLAY or WAYLAND_DISPLAY is set, or always with
 * SSH_ASKPASS_REQUIRE=force, never with SSH_ASKPASS_REQUIRE=never).
 *
 * A passphrase that opened a key is kept (in memory only, wiped at exit)
 * so that a reconnect of the daemon, which has no terminal, can log in
 * again with the same key.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sftpmnt.h"

#define PASS_MAX 1024

static void wipe_free(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

/* A line from fd without its newline, at most PASS_MAX bytes; NULL on
 * EOF before any byte, or error. */
static char *read_line(int fd)
{
	char *buf = malloc(PASS_MAX + 1);
	size_t n = 0;
	char ch;
	ssize_t r;

	if (!buf)
		return NULL;
	for (;;) {
		r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (ch == '\n' || ch == '\r')
			break;
		if (n < PASS_MAX)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	if (r <= 0 && n == 0) {
		explicit_bzero(buf, PASS_MAX + 1);
		free(buf);
		return NULL;
	}
	return buf;
}

static char *from_tty(const char *prompt)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int restore;
	char *p;

	if (fd < 0)
		return NULL;
	restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		(void)tcsetattr(fd, TCSANOW, &quiet);
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* (the read still works) */
	}
	p = read_line(fd);
	if (restore)
		(void)tcsetattr(fd, TCSANOW, &old);
	if (write(fd, "\n", 1) < 0) {
		/* (nothing to do) */
	}
	close(fd);
	return p;
}

static char *from_askpass(const char *prompt)
{
	const char *prog = getenv("SSH_ASKPASS");
	const char *req = getenv("SSH_ASKPASS_REQUIRE");
	int pfd[2], st;
	pid_t pid;
	char *p;

	if (!prog || !*prog || (req && !strcmp(req, "never")))
		return NULL;
	if (!(req && !strcmp(req, "force")) && !getenv("DISPLAY") &&
	    !getenv("WAYLAND_DISPLAY"))
		return NULL;
	if (pipe2(pfd, O_CLOEXEC))
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(pfd[1], 1);
		execlp(prog, prog, prompt, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	p = read_line(pfd[0]);
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { /* cancelled */
		wipe_free(p);
		return NULL;
	}
	return p;
}

/* Once the mount is up, nobody is asked: a reconnect runs in the I/O
 * thread, which must not wait for a person (askpass_stop). */
static int stopped;

void askpass_stop(void)
{
	stopped = 1;
}

char *askpass(const char *prompt)
{
	char *p;

	if (stopped)
		return NULL;
	p = from_tty(prompt);

	return p ? p : from_askpass(prompt);
}

/* ---- passphrases that opened a key ---------------------------------------- */

static struct kept {
	struct kept *next;
	char *path, *pass;
} *kept;
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

char *keypass_get(const char *path)
{
	struct kept *k;
	char *p = NULL;

	pthread_mutex_lock(&kept_lock);
	for (k = kept; k; k = k->next)
		if (!strcmp(k->path, path)) {
			p = strdup(k->pass);
			break;
		}
	pthread_mutex_unlock(&kept_lock);
	return p;
}

void keypass_keep(const char *path, const char *pass)
{
	struct kept *k = calloc(1, sizeof(*k));

	if (!k || !(k->path = strdup(path)) || !(k->pass = strdup(pass))) {
		if (k)
			free(k->path);
		free(k);
		return; /* (a reconnect asks again, or fails) */
	}
	pthread_mutex_lock(&kept_lock);
	k->next = kept;
	kept = k;
	pthread_mutex_unlock(&kept_lock);
}

void keypass_wipe(void)
{
	struct kept *k;

	pthread_mutex_lock(&kept_lock);
	while ((k = kept)) {
		kept = k->next;
		free(k->path);
		wipe_free(k->pass);
		free(k);
	}
	pthread_mutex_unlock(&kept_lock);
}

void askpass_free(char *p)
{
	wipe_free(p);
}
