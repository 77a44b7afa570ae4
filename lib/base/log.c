// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include <nvmerace/log.h>

static nvr_log_fn sink;
static void *sink_arg;
static enum nvr_log_level sink_max = NVR_LOG_WARN;

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

	if (!sink || level > sink_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sink(level, buf, sink_arg);
}
