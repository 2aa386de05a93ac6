/* Time conventions: every timestamp in the engine is int64 milliseconds
 * since the Unix epoch, UTC. Durations in config and flags are strings such
 * as "60s", "500ms", "5m", "1h", "2d" (a bare number means seconds). */
#ifndef EARSHOT_TIMEUTIL_H
#define EARSHOT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parses RFC 3339 ("2026-11-22T10:00:00Z", "...T10:00:00.123+02:00"; a space
 * may replace the T). Returns 0 and sets *ms, or ES_EINVAL. */
int es_time_parse_rfc3339(const char *s, size_t n, int64_t *ms);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (or with .mmm when ms % 1000 != 0) into
 * out[32]; returns the length. */
size_t es_time_format_rfc3339(int64_t ms, char out[32]);
/* Parses a duration ("60s", "1.5m", "250ms"); 0 or ES_EINVAL. */
int es_duration_parse(const char *s, int64_t *ms);
/* Wall clock and monotonic clock in ms. Only the pipeline's idle flush and
 * progress reporting read them; windows and detectors take time as input. */
int64_t es_time_wall_ms(void);
int64_t es_time_mono_ms(void);
/* Monotonic clock in nanoseconds (stage timings). */
uint64_t es_time_mono_ns(void);

#endif
