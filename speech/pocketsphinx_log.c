//go:build pocketsphinx

// pocketsphinx logs through sphinxbase's err_msg, to stderr by default and
// at length (every configuration value, every utterance). This callback
// drops debug and info messages and hands warnings and errors to slog.

#include <stdarg.h>
#include <stdio.h>
#include <sphinxbase/err.h>
#include "_cgo_export.h"

static void hotline_ps_log(void *user_data, err_lvl_t level, const char *fmt, ...) {
	(void)user_data;
	if (level < ERR_WARN) {
		return;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	hotlinePSLog((int)level, msg);
}

void hotline_ps_set_log(void) {
	err_set_callback(hotline_ps_log, NULL);
	err_set_logfp(NULL); /* cmd_ln also prints its table straight to the log file */
}
