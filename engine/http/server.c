/* The HTTP server (include/earshot/http.h): one thread running a libuv
 * loop; requests parsed by http-parser; routes answered from the live views
 * (live.c). Only this thread touches libuv; the pipeline wakes it with
 * uv_async_send (coalesced) when events are ready for the SSE clients.
 *
 * A connection serves one request and closes, except an event stream,
 * which stays and is written to on each wake-up: at most SSE_CHUNK bytes
 * per client per wake-up, and a client whose unsent data passes
 * SSE_MAX_QUEUED, or that fell behind the event ring, is dropped (counted),
 * so a slow client costs the pipeline nothing. */
#include <http_parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "earshot/http.h"
#include "earshot/log.h"
#include "earshot/mem.h"
#include "earshot/timeutil.h"
#include "http_internal.h"

#define SSE_CHUNK (1u << 20)        /* bytes written to one client per wake-up */
#define SSE_MAX_QUEUED (4u << 20)   /* unsent bytes after which a client is dropped */
#define SSE_HEARTBEAT_MS 15000      /* a comment line keeps proxies from closing an idle stream */
#define URL_MAX 2048

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  http_parser parser;
  struct es_http *h;
  char url[URL_MAX];
  size_t url_len;
  char field[32];
  size_t field_len;
  bool field_is_auth;
  char auth[512];
  size_t auth_len;
  size_t head_bytes, body_bytes;
  bool head_done, answered, sse, closing, lingering;
  uv_shutdown_t shutdown_req;
  int handles_open;
  uint64_t seq;
  struct conn *prev, *next; /* the SSE clients */
} conn;

struct es_http {
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t wake, stop;
  uv_timer_t heartbeat;
  pthread_t thread;
  es_live *live;
  char *token;
  char *config_json;
  const char *version;
  char url[128];
  int max_conn, nconn;
  int64_t head_timeout_ms;
  conn *sse;
  es_http_counters c;
};

static http_parser_settings settings;

/* ---- connections ----------------------------------------------------- */

static void on_handle_closed(uv_handle_t *hd) {
  conn *c = hd->data;
  if (--c->handles_open == 0) es_free(c);
}

static void conn_close(conn *c) {
  if (c->closing) return;
  c->closing = true;
  es_http *h = c->h;
  if (c->sse) {
    if (c->prev) c->prev->next = c->next;
    else h->sse = c->next;
    if (c->next) c->next->prev = c->prev;
    h->c.sse_clients--;
  }
  h->nconn--;
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

typedef struct wreq {
  uv_write_t req;
  conn *c;
  bool close_after;
  char *data;
} wreq;

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf);

/* After an answer: reads and discards what the client still sends until it
 * closes, or LINGER_MS pass. Closing with unread bytes would make the
 * kernel reset the connection, and a reset can destroy the answer before
 * the client reads it (a 413 or 400 sent while the request still arrives). */
#define LINGER_MS 2000

static void on_linger_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  es_free(buf->base);
  if (n < 0) conn_close(s->data);
}

static void on_linger_timeout(uv_timer_t *t) { conn_close(t->data); }

static void on_shutdown(uv_shutdown_t *req, int status) {
  conn *c = req->data;
  if (c->closing) return;
  if (status < 0 || uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_linger_read)) {
    conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
}

static void linger(conn *c) {
  if (c->closing || c->lingering) return;
  c->lingering = true;
  c->shutdown_req.data = c;
  uv_timer_stop(&c->timer);
  if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown)) conn_close(c);
}

static void on_written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  if (status < 0) conn_close(w->c);
  else if (w->close_after) linger(w->c);
  es_free(w->data);
  es_free(w);
}

/* Writes b's bytes (taken over: b is left empty); with close_after, the
 * connection closes once they are out (lingering, see above). */
static void conn_write(conn *c, es_buf *b, bool close_after) {
  if (c->closing || !b->len) {
    if (close_after) linger(c);
    return;
  }
  wreq *w = es_calloc(1, sizeof *w);
  if (!w) {
    conn_close(c);
    return;
  }
  w->c = c;
  w->close_after = close_after;
  w->data = b->data;
  uv_buf_t ub = uv_buf_init(b->data, (unsigned)b->len);
  es_buf_init(b); /* the data now belongs to the write request */
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &ub, 1, on_written) < 0) {
    es_free(w->data);
    es_free(w);
    conn_close(c);
  }
}

static const char *reason_phrase(int code) {
  switch (code) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 431: return "Request Header Fields Too Large";
  case 503: return "Service Unavailable";
  default: return "Error";
  }
}

static void respond(conn *c, int code, const char *type, const char *body, size_t n) {
  if (c->answered) return;
  c->answered = true;
  es_http *h = c->h;
  if (code >= 200 && code < 600) h->c.requests[code / 100 - 2]++;
  es_buf b;
  es_buf_init(&b);
  es_buf_printf(&b,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
                "X-Content-Type-Options: nosniff\r\n%sConnection: close\r\n\r\n",
                code, reason_phrase(code), type, n, code == 401 ? "WWW-Authenticate: Bearer\r\n" : "");
  es_buf_put(&b, body, n);
  uv_read_stop((uv_stream_t *)&c->tcp);
  uv_timer_stop(&c->timer);
  conn_write(c, &b, true);
  es_buf_free(&b);
}

static void respond_json(conn *c, int code, es_buf *body) {
  respond(c, code, "application/json", body->data ? body->data : "", body->len);
}

static void respond_error(conn *c, int code, const char *msg) {
  es_buf b;
  es_buf_init(&b);
  es_buf_puts(&b, "{\"error\":");
  es_buf_json_str(&b, msg, strlen(msg));
  es_buf_putc(&b, '}');
  respond_json(c, code, &b);
  es_buf_free(&b);
}

/* ---- routes ---------------------------------------------------------- */

/* The value of query parameter `key` in q (not decoded: the values taken
 * here are durations, times and tokens). */
static bool param(const char *q, size_t qn, const char *key, char *out, size_t n) {
  size_t kn = strlen(key);
  for (size_t i = 0; i < qn;) {
    size_t e = i;
    while (e < qn && q[e] != '&') e++;
    if (e - i > kn && !strncmp(q + i, key, kn) && q[i + kn] == '=') {
      size_t vn = e - i - kn - 1 < n - 1 ? e - i - kn - 1 : n - 1;
      memcpy(out, q + i + kn + 1, vn);
      out[vn] = 0;
      return true;
    }
    i = e + 1;
  }
  return false;
}

static bool token_equal(const char *a, size_t an, const char *b) {
  size_t bn = strlen(b);
  unsigned char diff = an != bn;
  for (size_t i = 0; i < an; i++) diff |= (unsigned char)(a[i] ^ b[i % (bn ? bn : 1)]);
  return diff == 0;
}

static bool authorised(conn *c, const char *q, size_t qn) {
  es_http *h = c->h;
  if (!h->token) return true;
  if (c->auth_len > 7 && !strncasecmp(c->auth, "Bearer ", 7)) return token_equal(c->auth + 7, c->auth_len - 7, h->token);
  /* Browsers cannot set headers on a page load or an EventSource. */
  char t[512];
  return param(q, qn, "token", t, sizeof t) && token_equal(t, strlen(t), h->token);
}

static void start_sse(conn *c) {
  es_http *h = c->h;
  c->answered = true;
  c->sse = true;
  h->c.requests[0]++; /* 200 */
  h->c.sse_clients++;
  c->next = h->sse;
  if (h->sse) h->sse->prev = c;
  h->sse = c;
  c->seq = es_live_next_seq(h->live);
  uv_timer_stop(&c->timer);
  es_buf b;
  es_buf_init(&b);
  es_buf_puts(&b, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                  "X-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\nretry: 2000\n\n");
  conn_write(c, &b, false);
  es_buf_free(&b);
}

static void route(conn *c) {
  es_http *h = c->h;
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(c->url, c->url_len, 0, &u)) {
    respond_error(c, 400, "the request target is not a valid path");
    return;
  }
  char path[URL_MAX];
  size_t pn = (u.field_set & (1 << UF_PATH)) ? u.field_data[UF_PATH].len : 0;
  memcpy(path, c->url + (pn ? u.field_data[UF_PATH].off : 0), pn);
  path[pn] = 0;
  const char *q = (u.field_set & (1 << UF_QUERY)) ? c->url + u.field_data[UF_QUERY].off : "";
  size_t qn = (u.field_set & (1 << UF_QUERY)) ? u.field_data[UF_QUERY].len : 0;
  if (c->parser.method != HTTP_GET && c->parser.method != HTTP_HEAD) {
    respond_error(c, 405, "only GET is served");
    return;
  }
  es_buf b;
  es_buf_init(&b);
  if (!strcmp(path, "/healthz")) {
    bool ok = es_live_healthy(h->live, ES_HTTP_STALE_MS, ES_HTTP_STALL_MS, &b);
    respond_json(c, ok ? 200 : 503, &b);
  } else if (!strcmp(path, "/readyz")) {
    bool ok = es_live_ready(h->live, &b);
    respond_json(c, ok ? 200 : 503, &b);
  } else if (!authorised(c, q, qn)) {
    respond_error(c, 401, "this endpoint needs Authorization: Bearer <http.token>");
  } else if (!strcmp(path, "/metrics")) {
    es_live_metrics(h->live, &h->c, h->version, &b);
    respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "", b.len);
  } else if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
    respond(c, 200, "text/html; charset=utf-8", (const char *)es_dashboard_html, es_dashboard_html_len);
  } else if (!strcmp(path, "/api/v1/status")) {
    es_live_status_json(h->live, &b, h->version, h->config_json);
    respond_json(c, 200, &b);
  } else if (!strcmp(path, "/api/v1/queries")) {
    es_live_queries_json(h->live, &b);
    respond_json(c, 200, &b);
  } else if (!strncmp(path, "/api/v1/queries/", 16) && pn > 24 && !strcmp(path + pn - 8, "/windows")) {
    char id[URL_MAX], v[64];
    size_t idn = pn - 16 - 8;
    memcpy(id, path + 16, idn);
    id[idn] = 0;
    int64_t size = 0, since = INT64_MIN;
    if (param(q, qn, "size", v, sizeof v) && es_duration_parse(v, &size)) {
      respond_error(c, 400, "size must be a duration such as 60s or 1h");
    } else if (param(q, qn, "since", v, sizeof v) && es_time_parse_rfc3339(v, strlen(v), &since)) {
      char *end;
      long long ms = strtoll(v, &end, 10);
      if (*end || end == v) respond_error(c, 400, "since must be an RFC 3339 time or epoch milliseconds");
      else since = ms;
    }
    if (!c->answered) {
      if (es_live_windows_json(h->live, id, size, since, &b)) respond_json(c, 200, &b);
      else respond_error(c, 404, "no such query, or none of its windows has closed yet");
    }
  } else if (!strcmp(path, "/api/v1/alerts")) {
    char v[16] = "open";
    param(q, qn, "state", v, sizeof v);
    if (strcmp(v, "open") && strcmp(v, "all")) {
      respond_error(c, 400, "state must be open or all");
    } else {
      es_live_alerts_json(h->live, !strcmp(v, "open"), &b);
      respond_json(c, 200, &b);
    }
  } else if (!strcmp(path, "/api/v1/triage")) {
    es_live_triage_json(h->live, &b);
    respond_json(c, 200, &b);
  } else if (!strcmp(path, "/api/v1/events")) {
    start_sse(c);
  } else {
    respond_error(c, 404, "no such endpoint: see /api/v1/status, /api/v1/queries, /api/v1/alerts, /api/v1/triage, "
                  "/metrics");
  }
  es_buf_free(&b);
}

/* ---- http-parser callbacks -------------------------------------------- */

/* Appends at[0..n) to dst (capacity cap, NUL-terminated), cutting what
 * does not fit. Returns false when something was cut. */
static bool append(char *dst, size_t *len, size_t cap, const char *at, size_t n) {
  size_t k = *len + n < cap - 1 ? n : cap - 1 - *len;
  memcpy(dst + *len, at, k);
  *len += k;
  dst[*len] = 0;
  return k == n;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  conn *c = p->data;
  return append(c->url, &c->url_len, URL_MAX, at, n) ? 0 : -1; /* too long: 431 */
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  conn *c = p->data;
  if (c->field_is_auth || c->field_len == SIZE_MAX) c->field_len = 0; /* a new field after a value */
  c->field_is_auth = false;
  append(c->field, &c->field_len, sizeof c->field, at, n); /* only "authorization" matters: cut the rest */
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  conn *c = p->data;
  if (!strcasecmp(c->field, "authorization")) {
    if (!c->field_is_auth) c->auth_len = 0;
    c->field_is_auth = true;
    append(c->auth, &c->auth_len, sizeof c->auth, at, n);
  } else {
    c->field_len = SIZE_MAX; /* the next field starts afresh */
  }
  return 0;
}

static int on_headers_complete(http_parser *p) {
  conn *c = p->data;
  c->head_done = true;
  if (p->content_length != ULLONG_MAX && p->content_length > ES_HTTP_MAX_BODY) {
    c->h->c.rejected[1]++;
    respond_error(c, 413, "request body too large");
    return -1;
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  (void)at;
  conn *c = p->data;
  c->body_bytes += n;
  if (c->body_bytes > ES_HTTP_MAX_BODY) {
    c->h->c.rejected[1]++;
    respond_error(c, 413, "request body too large");
    return -1;
  }
  return 0;
}

static int on_message_complete(http_parser *p) {
  conn *c = p->data;
  if (!c->answered) route(c);
  return 0;
}

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf) {
  (void)hd;
  (void)suggested;
  buf->base = es_malloc(8192);
  buf->len = buf->base ? 8192 : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;
  if (n < 0 || c->closing) {
    es_free(buf->base);
    if (n < 0) conn_close(c);
    return;
  }
  if (c->answered) { /* a pipelined or late byte: ignored, the connection closes after the answer */
    es_free(buf->base);
    return;
  }
  if (!c->head_done) {
    c->head_bytes += (size_t)n;
    if (c->head_bytes > ES_HTTP_MAX_HEAD) {
      es_free(buf->base);
      c->h->c.rejected[2]++;
      respond_error(c, 431, "request head too large");
      return;
    }
  }
  size_t done = http_parser_execute(&c->parser, &settings, buf->base, (size_t)n);
  es_free(buf->base);
  if (!c->answered && (c->parser.http_errno || done != (size_t)n)) {
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_INVALID_URL || e == HPE_CB_url) {
      c->h->c.rejected[2]++;
      respond_error(c, e == HPE_CB_url ? 431 : 400, e == HPE_CB_url ? "request target too long" : "invalid request target");
    } else {
      respond_error(c, 400, http_errno_description(e));
    }
  }
}

static void on_head_timeout(uv_timer_t *t) {
  conn *c = t->data;
  if (c->answered || c->closing) return;
  c->h->c.rejected[0]++;
  respond_error(c, 408, "the request head did not arrive in time");
}

static void on_connection(uv_stream_t *server, int status) {
  es_http *h = server->data;
  if (status < 0) return;
  conn *c = es_calloc(1, sizeof *c);
  if (!c) return;
  c->h = h;
  uv_tcp_init(&h->loop, &c->tcp);
  uv_timer_init(&h->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->handles_open = 2;
  h->nconn++;
  if (uv_accept(server, (uv_stream_t *)&c->tcp)) {
    conn_close(c);
    return;
  }
  if (h->nconn > h->max_conn) {
    h->c.rejected[3]++;
    respond_error(c, 503, "too many connections");
    return;
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_timer_start(&c->timer, on_head_timeout, (uint64_t)h->head_timeout_ms, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* ---- the event stream ------------------------------------------------- */

static void pump_sse(es_http *h) {
  es_buf b;
  es_buf_init(&b);
  for (conn *c = h->sse, *next; c; c = next) {
    next = c->next;
    if (c->closing) continue;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > SSE_MAX_QUEUED ||
        !es_live_events(h->live, &c->seq, &b, SSE_CHUNK)) {
      h->c.sse_dropped++;
      conn_close(c);
      es_buf_clear(&b);
      continue;
    }
    conn_write(c, &b, false);
  }
  es_buf_free(&b);
}

static void on_wake(uv_async_t *a) { pump_sse(a->data); }

static void on_heartbeat(uv_timer_t *t) {
  es_http *h = t->data;
  for (conn *c = h->sse; c; c = c->next) {
    es_buf b;
    es_buf_init(&b);
    es_buf_puts(&b, ": keep-alive\n\n");
    conn_write(c, &b, false);
    es_buf_free(&b);
  }
}

static void close_any(uv_handle_t *hd, void *arg) {
  (void)arg;
  if (uv_is_closing(hd)) return;
  if (hd->type == UV_TCP && hd->data && hd->data != arg) {
    conn *c = hd->data;
    conn_close(c);
    return;
  }
  if (hd->type == UV_TIMER && hd->data && hd->data != arg) return; /* a connection's timer: closed with it */
  uv_close(hd, NULL);
}

static void on_stop(uv_async_t *a) {
  es_http *h = a->data;
  uv_walk(&h->loop, close_any, h);
}

static void *http_main(void *arg) {
  es_http *h = arg;
  uv_run(&h->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void wake(void *arg) { uv_async_send(arg); }

/* ---- start and stop --------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_storage *sa, es_diag *d) {
  char host[128];
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen || !colon[1])
    return es_diag_set(d, ES_ECONFIG, "http.listen '%s': expected HOST:PORT (127.0.0.1:8089, [::1]:8089, 0.0.0.0:8089)",
                       listen);
  size_t hn = (size_t)(colon - listen);
  if (listen[0] == '[' && hn >= 2 && listen[hn - 1] == ']') {
    memcpy(host, listen + 1, hn - 2);
    host[hn - 2] = 0;
  } else {
    if (hn >= sizeof host) return es_diag_set(d, ES_ECONFIG, "http.listen '%s': host too long", listen);
    memcpy(host, listen, hn);
    host[hn] = 0;
  }
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535)
    return es_diag_set(d, ES_ECONFIG, "http.listen '%s': the port must be a number from 0 to 65535", listen);
  if (!strcmp(host, "localhost")) snprintf(host, sizeof host, "127.0.0.1");
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) && uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)sa))
    return es_diag_set(d, ES_ECONFIG, "http.listen '%s': '%s' is not an IP address", listen, host);
  return 0;
}

int es_http_check_listen(const char *listen, es_diag *d) {
  struct sockaddr_storage sa;
  return strcmp(listen, "off") ? parse_listen(listen, &sa, d) : 0;
}

static void init_settings(void) {
  settings.on_url = on_url;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
}

es_http *es_http_start(const es_http_opts *o, es_diag *d) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, init_settings);
  struct sockaddr_storage sa;
  memset(&sa, 0, sizeof sa);
  if (parse_listen(o->listen, &sa, d)) return NULL;
  es_http *h = es_calloc(1, sizeof *h);
  if (!h) {
    es_diag_set(d, ES_ENOMEM, "out of memory starting the HTTP server");
    return NULL;
  }
  h->version = o->version ? o->version : "";
  h->max_conn = o->max_connections > 0 ? o->max_connections : 64;
  h->head_timeout_ms = o->head_timeout_ms > 0 ? o->head_timeout_ms : 10000;
  h->token = o->token && *o->token ? es_strdup(o->token) : NULL;
  h->config_json = o->config_json ? es_strdup(o->config_json) : NULL;
  if (uv_loop_init(&h->loop)) {
    es_free(h->token);
    es_free(h->config_json);
    es_free(h);
    es_diag_set(d, ES_EIO, "cannot start the HTTP event loop");
    return NULL;
  }
  h->live = es_live_create(o->history, wake, &h->wake);
  uv_async_init(&h->loop, &h->wake, on_wake);
  uv_async_init(&h->loop, &h->stop, on_stop);
  uv_timer_init(&h->loop, &h->heartbeat);
  uv_tcp_init(&h->loop, &h->listener);
  h->wake.data = h->stop.data = h->heartbeat.data = h->listener.data = h;
  int e = h->live ? uv_tcp_bind(&h->listener, (const struct sockaddr *)&sa, 0) : UV_ENOMEM;
  if (!e) e = uv_listen((uv_stream_t *)&h->listener, 128, on_connection);
  if (e) {
    es_diag_set(d, ES_EIO, "cannot listen on %s: %s", o->listen, uv_strerror(e));
    goto fail;
  }
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&h->listener, (struct sockaddr *)&bound, &len);
  char ip[64];
  if (bound.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&bound, ip, sizeof ip);
    snprintf(h->url, sizeof h->url, "http://[%s]:%d/", ip, ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
  } else {
    uv_ip4_name((struct sockaddr_in *)&bound, ip, sizeof ip);
    snprintf(h->url, sizeof h->url, "http://%s:%d/", ip, ntohs(((struct sockaddr_in *)&bound)->sin_port));
  }
  uv_timer_start(&h->heartbeat, on_heartbeat, SSE_HEARTBEAT_MS, SSE_HEARTBEAT_MS);
  if (pthread_create(&h->thread, NULL, http_main, h)) {
    es_diag_set(d, ES_ETHREAD, "cannot start the HTTP thread");
    goto fail;
  }
  return h;
fail: /* the loop's handles closed and run out on this thread: no thread runs it */
  uv_walk(&h->loop, close_any, h);
  uv_run(&h->loop, UV_RUN_DEFAULT);
  uv_loop_close(&h->loop);
  es_live_destroy(h->live);
  es_free(h->token);
  es_free(h->config_json);
  es_free(h);
  return NULL;
}

const char *es_http_url(const es_http *h) { return h->url; }

es_sink *es_http_sink(es_http *h) { return es_live_sink(h->live); }

void es_http_stop(es_http *h) {
  if (!h) return;
  uv_async_send(&h->stop);
  pthread_join(h->thread, NULL);
  uv_loop_close(&h->loop);
  es_live_destroy(h->live);
  es_free(h->token);
  es_free(h->config_json);
  es_free(h);
}

