// SPDX-License-Identifier: GPL-2.0
/*
 * vmemctl watch: samples plugged_size until every device reached its
 * requested_size and is idle. Progress bars redrawn in place on a
 * terminal, else a line per change (plain or JSON); a summary at the end.
 * SIGINT, SIGTERM and SIGTSTP are read from a self-pipe between samples
 * (no signalfd: it works on kernels built without it too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "vmemctl_cmd.h"
#include "vmemctl_format.h"
#include "vmemctl_sysfs.h"
#include "vmemctl_util.h"

/* What watch follows of one device. */
struct wdev {
	struct dev *d;
	bool have_start;
	unsigned long long start;	/* plugged when the target was set */
	unsigned long long target;
	bool shown;			/* a line was printed */
	bool shown_ok;
	unsigned long long shown_plugged, shown_requested;
	char *shown_state;
	bool reached;
	double reached_at;
};

struct watch {
	const struct opts *o;
	struct wdev *w;
	int n;
	bool tty;
	bool drawn;			/* the tty block is on the screen */
	int sfd;			/* read end of the signal pipe */
	double t0;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long dist(unsigned long long a, unsigned long long b)
{
	return a > b ? a - b : b - a;
}

/* The state shown: the state file, else retry_state, else "-". */
static const char *wdev_state(const struct wdev *w)
{
	if (w->d->f[F_STATE].ok)
		return w->d->f[F_STATE].str;
	if (w->d->f[F_RETRY_STATE].ok)
		return w->d->f[F_RETRY_STATE].str;
	return "-";
}

static bool wdev_ok(const struct wdev *w)
{
	return w->d->f[F_PLUGGED_SIZE].ok && w->d->f[F_REQUESTED_SIZE].ok;
}

/* Percent of the way from start to target, rounded down; -1 unknown. */
static int wdev_percent(const struct wdev *w)
{
	unsigned long long cur = w->d->f[F_PLUGGED_SIZE].u;
	unsigned long long total = dist(w->start, w->target);
	unsigned long long left = dist(cur, w->target);
	unsigned long long done;

	if (!wdev_ok(w) || !w->have_start)
		return -1;
	if (!total)
		return cur == w->target ? 100 : 0;
	if (left >= total)
		return 0;
	done = total - left;
	while (total > ULLONG_MAX / 100) {
		total >>= 1;
		done >>= 1;
	}
	return done * 100 / total;
}

static void wdev_sample(struct wdev *w, double el)
{
	struct dev *d = w->d;
	unsigned long long plugged, requested;
	bool idle;

	load_field(d, F_PLUGGED_SIZE);
	load_field(d, F_REQUESTED_SIZE);
	load_field(d, F_STATE);
	load_field(d, F_RETRY_STATE);
	if (!wdev_ok(w)) {
		w->reached = false;
		return;
	}
	plugged = d->f[F_PLUGGED_SIZE].u;
	requested = d->f[F_REQUESTED_SIZE].u;
	/*
	 * Progress counts from where plugged was when the target was set;
	 * it starts over if the target changes or plugged moves away.
	 */
	if (!w->have_start || requested != w->target ||
	    dist(plugged, requested) > dist(w->start, requested)) {
		w->have_start = true;
		w->start = plugged;
		w->target = requested;
	}
	idle = (d->f[F_STATE].ok && !strcmp(d->f[F_STATE].str, "idle")) ||
	       (d->f[F_RETRY_STATE].ok &&
		!strcmp(d->f[F_RETRY_STATE].str, "idle"));
	if (plugged == requested && idle) {
		if (!w->reached)
			w->reached_at = el;
		w->reached = true;
	} else {
		w->reached = false;
	}
}

/* Did the line of @w change since it was last printed? Records it. */
static bool wdev_changed(struct wdev *w)
{
	const struct dev *d = w->d;
	const char *state = wdev_state(w);
	bool ok = wdev_ok(w);

	if (w->shown && ok == w->shown_ok &&
	    (!ok || (d->f[F_PLUGGED_SIZE].u == w->shown_plugged &&
		     d->f[F_REQUESTED_SIZE].u == w->shown_requested)) &&
	    !strcmp(state, w->shown_state))
		return false;
	w->shown = true;
	w->shown_ok = ok;
	w->shown_plugged = d->f[F_PLUGGED_SIZE].u;
	w->shown_requested = d->f[F_REQUESTED_SIZE].u;
	free(w->shown_state);
	w->shown_state = xstrdup(state);
	return true;
}

static char *size_text(char *buf, size_t len, const struct val *v)
{
	if (!v->ok) {
		snprintf(buf, len, "-");
		return buf;
	}
	return human(buf, len, v->u, true);
}

static void print_plain(const struct wdev *w, double el)
{
	char pl[32], rq[32], *state = sanitize(wdev_state(w));
	int pct = wdev_percent(w);

	printf("%5.1fs %s plugged %s of %s (", el, w->d->name,
	       size_text(pl, sizeof(pl), &w->d->f[F_PLUGGED_SIZE]),
	       size_text(rq, sizeof(rq), &w->d->f[F_REQUESTED_SIZE]));
	if (pct < 0)
		fputs("-%) ", stdout);
	else
		printf("%d%%) ", pct);
	printf("%s\n", state);
	free(state);
}

static void print_json_sample(const struct wdev *w, double el)
{
	const struct dev *d = w->d;
	int pct = wdev_percent(w);

	printf("{\"event\":\"sample\",\"t\":%.3f,\"name\":", el);
	json_str(d->name);
	fputs(",\"plugged_size\":", stdout);
	json_val(&d->f[F_PLUGGED_SIZE], T_U64);
	fputs(",\"requested_size\":", stdout);
	json_val(&d->f[F_REQUESTED_SIZE], T_U64);
	if (pct < 0)
		fputs(",\"percent\":null", stdout);
	else
		printf(",\"percent\":%d", pct);
	fputs(",\"state\":", stdout);
	json_val(&d->f[F_STATE], T_STR);
	fputs(",\"retry_state\":", stdout);
	json_val(&d->f[F_RETRY_STATE], T_STR);
	printf(",\"reached\":%s}\n", w->reached ? "true" : "false");
}

static int term_width(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * "virtio0 [######......]  50%   1.00 GiB /   2.00 GiB  resizing", cut to
 * @width - 1 columns so the terminal never wraps it.
 */
static void print_bar(const struct wdev *w, int namew, int width)
{
	char pl[32], rq[32], line[512], *state = sanitize(wdev_state(w));
	int pct = wdev_percent(w), barw, fill, len, i;

	/* name " [" bar "] " pct " " plugged " / " requested "  " state */
	barw = width - 1 - namew - 36 - 20;
	if (barw > 50)
		barw = 50;
	if (barw < 10)
		barw = 10;
	fill = pct < 0 ? 0 : barw * pct / 100;
	len = snprintf(line, sizeof(line), "%-*s [", namew, w->d->name);
	for (i = 0; i < barw && len < (int)sizeof(line) - 1; i++)
		line[len++] = i < fill ? '#' : '.';
	line[len] = '\0';
	if (pct < 0)
		len += snprintf(line + len, sizeof(line) - len, "]    -");
	else
		len += snprintf(line + len, sizeof(line) - len, "] %3d%%",
				pct);
	if (len < (int)sizeof(line))
		snprintf(line + len, sizeof(line) - len, " %11s / %11s  %s",
			 size_text(pl, sizeof(pl), &w->d->f[F_PLUGGED_SIZE]),
			 size_text(rq, sizeof(rq),
				   &w->d->f[F_REQUESTED_SIZE]),
			 state);
	free(state);
	if (width - 1 < (int)sizeof(line))
		line[width > 1 ? width - 1 : 0] = '\0';
	printf("\r%s\033[K\n", line);
}

static void draw_tty(struct watch *wa)
{
	int width = term_width(), namew = 0, i, l;

	for (i = 0; i < wa->n; i++) {
		l = strlen(wa->w[i].d->name);
		if (l > namew)
			namew = l;
	}
	if (wa->drawn)
		printf("\033[%dA", wa->n);
	for (i = 0; i < wa->n; i++)
		print_bar(&wa->w[i], namew, width);
	wa->drawn = true;
}

static void show_cursor(const struct watch *wa, bool on)
{
	if (wa->tty) {
		fputs(on ? "\033[?25h" : "\033[?25l", stdout);
		fflush(stdout);
	}
}

static void watch_output(struct watch *wa, double el)
{
	int i;

	if (wa->tty) {
		draw_tty(wa);
	} else {
		for (i = 0; i < wa->n; i++) {
			if (!wdev_changed(&wa->w[i]))
				continue;
			if (wa->o->json)
				print_json_sample(&wa->w[i], el);
			else
				print_plain(&wa->w[i], el);
		}
	}
	fflush(stdout);
}

/* "reached" or "not reached" lines, or the JSON summary. */
static void watch_summary(const struct watch *wa, double el, int sig)
{
	const char *result = sig ? "interrupted" : "timeout";
	char buf[32], pl[32], rq[32], *state;
	const struct wdev *w;
	bool all = true;
	int i;

	for (i = 0; i < wa->n; i++)
		all &= wa->w[i].reached;
	if (all && !sig)
		result = "reached";
	if (sig)
		snprintf(buf, sizeof(buf), "%.1f s (interrupted)", el);
	else
		snprintf(buf, sizeof(buf), "%g s", wa->o->timeout);

	if (wa->o->json) {
		printf("{\"event\":\"summary\",\"t\":%.3f,\"result\":\"%s\",\"devices\":[",
		       el, result);
		for (i = 0; i < wa->n; i++) {
			w = &wa->w[i];
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			json_str(w->d->name);
			printf(",\"reached\":%s", w->reached ? "true" : "false");
			if (w->reached)
				printf(",\"reached_at\":%.3f", w->reached_at);
			else
				fputs(",\"reached_at\":null", stdout);
			fputs(",\"plugged_size\":", stdout);
			json_val(&w->d->f[F_PLUGGED_SIZE], T_U64);
			fputs(",\"requested_size\":", stdout);
			json_val(&w->d->f[F_REQUESTED_SIZE], T_U64);
			fputs(",\"state\":", stdout);
			json_val(&w->d->f[F_STATE], T_STR);
			putchar('}');
		}
		fputs("]}\n", stdout);
		return;
	}
	for (i = 0; i < wa->n; i++) {
		w = &wa->w[i];
		size_text(pl, sizeof(pl), &w->d->f[F_PLUGGED_SIZE]);
		if (w->reached) {
			printf("%s: reached %s in %.1f s\n", w->d->name, pl,
			       w->reached_at);
			continue;
		}
		state = sanitize(wdev_state(w));
		printf("%s: not reached after %s: plugged %s of %s, state '%s'\n",
		       w->d->name, buf, pl,
		       size_text(rq, sizeof(rq), &w->d->f[F_REQUESTED_SIZE]),
		       state);
		free(state);
	}
}

/* The signal handler's end of the pipe. */
static int sig_wfd = -1;

static void on_signal(int sig)
{
	unsigned char c = sig;
	int saved = errno;

	/* A full pipe holds a signal already: a failure changes nothing. */
	if (write(sig_wfd, &c, 1) < 0)
		c = 0;
	errno = saved;
}

/* Signals arrive as one byte each on a pipe that poll() can wait on. */
static int signal_pipe(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGTSTP };
	struct sigaction sa;
	int fds[2];
	size_t i;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		die(1, "pipe: %s", strerror(errno));
	sig_wfd = fds[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_LEN(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL))
			die(1, "sigaction: %s", strerror(errno));
	return fds[0];
}

/*
 * Waits up to @ms for a signal. Returns the terminating signal, or 0.
 * SIGTSTP stops the process with the cursor shown, as if not handled.
 */
static int watch_wait(struct watch *wa, int ms)
{
	struct pollfd pfd = { .fd = wa->sfd, .events = POLLIN };
	unsigned char sig;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if (read(wa->sfd, &sig, 1) != 1)
		return 0;
	if (sig != SIGTSTP)
		return sig;
	show_cursor(wa, true);
	raise(SIGSTOP);
	/* Continued: the shell may have written below the block. */
	wa->drawn = false;
	show_cursor(wa, false);
	return 0;
}

int cmd_watch(const struct opts *o)
{
	char *top = devices_dir(o->root);
	const char *term = getenv("TERM");
	struct watch wa = { .o = o };
	struct dev *devs;
	double el = 0, left;
	int i, sig = 0, ret = 2, ms;
	bool all;

	wa.n = find_devices(top, o->names, o->nr_names, &devs);
	wa.w = xmalloc(wa.n * sizeof(*wa.w));
	memset(wa.w, 0, wa.n * sizeof(*wa.w));
	for (i = 0; i < wa.n; i++)
		wa.w[i].d = &devs[i];
	wa.tty = !o->json && !o->plain && isatty(STDOUT_FILENO) && term &&
		 *term && strcmp(term, "dumb");

	wa.sfd = signal_pipe();

	show_cursor(&wa, false);
	wa.t0 = now();
	for (;;) {
		el = now() - wa.t0;
		all = true;
		for (i = 0; i < wa.n; i++) {
			wdev_sample(&wa.w[i], el);
			all &= wa.w[i].reached;
		}
		watch_output(&wa, el);
		if (all) {
			ret = 0;
			break;
		}
		left = o->timeout - el;
		if (left <= 0)
			break;
		ms = left * 1000 < o->interval ? (int)(left * 1000) + 1 :
						 (int)o->interval;
		sig = watch_wait(&wa, ms);
		if (sig) {
			el = now() - wa.t0;
			ret = 128 + sig;
			break;
		}
	}
	show_cursor(&wa, true);
	/* Over the "^C" the terminal echoed. */
	if (sig && isatty(STDOUT_FILENO))
		fputs(wa.tty ? "\r\033[K" : "\r", stdout);
	watch_summary(&wa, el, sig);
	free(top);
	return fflush(stdout) ? 1 : ret;
}
