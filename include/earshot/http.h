/* The HTTP endpoint (engine/http): /healthz, /readyz, /metrics (Prometheus
 * text), the JSON API under /api/v1/, server-sent events at
 * /api/v1/events and the command-centre dashboard at /. It runs its own
 * thread with a libuv loop and parses requests with http-parser; the
 * pipeline feeds it through a sink (es_http_sink) and never waits on it.
 *
 * Every response closes its connection (HTTP/1.1 with Connection: close),
 * except the event stream. Limits: request head ES_HTTP_MAX_HEAD bytes
 * (431), body ES_HTTP_MAX_BODY bytes (413), the head within
 * head_timeout_ms (408), at most max_connections at once (503). */
#ifndef EARSHOT_HTTP_H
#define EARSHOT_HTTP_H

#include "earshot/error.h"
#include "earshot/sink.h"

#define ES_HTTP_DEFAULT_LISTEN "127.0.0.1:8089"
#define ES_HTTP_MAX_HEAD 16384
#define ES_HTTP_MAX_BODY 65536
/* Liveness fails when the pipeline has not reported for this long, or a
 * worker has been on one batch for ES_HTTP_STALL_MS (a batch takes
 * milliseconds). */
#define ES_HTTP_STALE_MS 15000
#define ES_HTTP_STALL_MS 30000

typedef struct es_http_opts {
  const char *listen;      /* "HOST:PORT" (IPv4 or [IPv6]); port 0 takes a free one */
  const char *token;       /* bearer token; NULL: no authentication */
  int max_connections;
  int64_t head_timeout_ms; /* 0: 10 s */
  int history;             /* closed windows kept per query and window size */
  const char *version;
  const char *config_json; /* GET /api/v1/status shows it (secrets already redacted); copied */
} es_http_opts;

typedef struct es_http es_http;

/* Binds and starts the server thread. NULL with diag when the address is
 * invalid or cannot be bound. */
es_http *es_http_start(const es_http_opts *o, es_diag *d);
/* Checks an http.listen value (HOST:PORT or "off") without binding it. */
int es_http_check_listen(const char *listen, es_diag *d);
/* "http://HOST:PORT/" as bound (the real port when 0 was asked). */
const char *es_http_url(const es_http *h);
/* The live views' sink: give it to es_pipeline_run (es_run_io.sinks). It
 * stays valid until es_http_stop. */
es_sink *es_http_sink(es_http *h);
/* Closes every connection, stops the thread and frees. NULL-safe. */
void es_http_stop(es_http *h);

#endif
