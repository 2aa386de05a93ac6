/* Inside the HTTP module: the live views (live.c) that the pipeline feeds
 * through a sink and the server (server.c) reads, the Prometheus text
 * (metrics.c) and the embedded dashboard (dashboard.c).
 *
 * Threads: the sink functions run on the aggregator thread, everything
 * else on the HTTP thread; es_live's lock guards all its state, and no call
 * holds it for more than copying or formatting a bounded amount (one
 * response's worth). */
#ifndef EARSHOT_HTTP_INTERNAL_H
#define EARSHOT_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/sink.h"

typedef struct es_live es_live;

/* `history`: closed windows kept per query and window size; wake(arg) is
 * called (any thread, with the lock released) when events were added. */
es_live *es_live_create(int history, void (*wake)(void *), void *wake_arg);
void es_live_destroy(es_live *l); /* NULL-safe */
es_sink *es_live_sink(es_live *l);

/* Server-sent events: `*seq` is the next event a client wants. Appends the
 * events from there on to out (at most max_bytes, whole events) and moves
 * *seq past them. Returns false when the client fell behind: events it
 * wanted were dropped from the ring (it is then to be disconnected). */
bool es_live_events(es_live *l, uint64_t *seq, es_buf *out, size_t max_bytes);
/* The sequence number the next event will get (a new client starts here). */
uint64_t es_live_next_seq(es_live *l);

/* Responses (JSON, no trailing newline). false: not found (an unknown
 * query id). */
void es_live_status_json(es_live *l, es_buf *out, const char *version, const char *config_json);
void es_live_queries_json(es_live *l, es_buf *out);
bool es_live_windows_json(es_live *l, const char *id, int64_t size_ms, int64_t since_ms, es_buf *out);
void es_live_alerts_json(es_live *l, bool open_only, es_buf *out);
/* {"tracks":[{"track","records","sla_events","sla_breach_open","recent":[records, newest first]}],
 *  "sla_events":[newest first]} */
void es_live_triage_json(es_live *l, es_buf *out);

/* Health. Liveness: the pipeline published a status within `max_age_ms`
 * and no worker has been on one batch for `max_stall_ms`. Readiness: the
 * pipeline runs and its input can deliver. Both write a JSON body. */
bool es_live_healthy(es_live *l, int64_t max_age_ms, int64_t max_stall_ms, es_buf *out);
bool es_live_ready(es_live *l, es_buf *out);

/* The HTTP server's own counters, for the metrics. */
typedef struct es_http_counters {
  uint64_t requests[4];      /* answered, by status class: 2xx, 3xx, 4xx, 5xx */
  uint64_t rejected[4];      /* 408, 413, 431, over the connection cap */
  uint64_t sse_clients, sse_dropped;
} es_http_counters;

/* Prometheus text exposition of the last status and the live counters. */
void es_live_metrics(es_live *l, const es_http_counters *hc, const char *version, es_buf *out);

/* The dashboard page (dashboard.html, embedded at build time). */
extern const unsigned char es_dashboard_html[];
extern const unsigned int es_dashboard_html_len;

#endif
