// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include <nvmerace/log.h>

static nvr_log_fn sink;
static void *sink_arg;
static enum nvr_log_level sink_max = NVR_LOG_WARN;
static __thread char last_error[512];

const char *nvr_log_last_error(void)
{
	return last_error;
}

void nvr_log_clear_error(void)
{
	last_error[0] = '\0';
}

void nvr_log_set_sink(nvr_log_fn fn, void *arg, enum nvr_log_level max)
{
	sink = fn;
	sink_arg = arg;
	sink_max = max;
}

void nvr_log(enum nvr_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (level != NVR_LOG_ERR && (!sink || level > sink_max))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (level == NVR_LOG_ERR)
		snprintf(last_error, sizeof(last_error), "%s", buf);
	if (sink && level <= sink_max)
		sink(level, buf, sink_arg);
}
