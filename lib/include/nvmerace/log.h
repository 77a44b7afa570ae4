/* SPDX-License-Identifier: MIT */
/*
 * The library never prints: it hands messages to a sink the front end sets.
 * Without a sink, messages are dropped. The log is for diagnostics; why a
 * call failed comes back one way across the library: in a message buffer
 * the caller passes (@msg, @len), next to the negative errno.
 */
#ifndef NVMERACE_LOG_H
#define NVMERACE_LOG_H

enum nvr_log_level {
	NVR_LOG_ERR,
	NVR_LOG_WARN,
	NVR_LOG_INFO,
	NVR_LOG_DEBUG,
};

typedef void (*nvr_log_fn)(enum nvr_log_level level, const char *msg, void *arg);

/**
 * nvr_log_set_sink() - route the library's messages to @fn.
 * @fn: called with each formatted message; NULL drops them.
 * @arg: passed to @fn.
 * @max: messages above this level are not formatted at all.
 *
 * Return: nothing.
 */
void nvr_log_set_sink(nvr_log_fn fn, void *arg, enum nvr_log_level max);

/**
 * nvr_log() - hand a message to the sink (the library's only way to speak)
 * @level: how bad
 * @fmt: printf format and arguments
 *
 * Return: nothing.
 */
void nvr_log(enum nvr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define nvr_err(...) nvr_log(NVR_LOG_ERR, __VA_ARGS__)
#define nvr_warn(...) nvr_log(NVR_LOG_WARN, __VA_ARGS__)
#define nvr_info(...) nvr_log(NVR_LOG_INFO, __VA_ARGS__)
#define nvr_debug(...) nvr_log(NVR_LOG_DEBUG, __VA_ARGS__)

#endif
