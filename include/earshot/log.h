/* Structured logs to stderr in logfmt: `ts=... level=info msg="..." k=v`.
 * Any thread; each line is written with one write(2) so lines never
 * interleave. */
#ifndef EARSHOT_LOG_H
#define EARSHOT_LOG_H

enum es_log_level { ES_LOG_DEBUG, ES_LOG_INFO, ES_LOG_WARN, ES_LOG_ERROR, ES_LOG_OFF };

#include <stdbool.h>

void es_log_set_level(enum es_log_level lvl);
/* JSON lines (`{"ts":..,"level":..,"msg":..,"key":value}`) instead of
 * logfmt; set once at start-up. */
void es_log_set_json(bool on);
/* `fmt` produces the key=value tail after msg; the message is quoted. */
void es_log(enum es_log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define es_log_info(msg, ...) es_log(ES_LOG_INFO, msg, __VA_ARGS__)
#define es_log_warn(msg, ...) es_log(ES_LOG_WARN, msg, __VA_ARGS__)
#define es_log_error(msg, ...) es_log(ES_LOG_ERROR, msg, __VA_ARGS__)

#endif
