/* The ingest thread: reads the input (file or pipe) into batches of whole
 * lines and deals them round-robin to the workers (batch k to worker
 * k mod N), so the aggregator can restore input order.
 *
 * Bounded memory: batches come from a fixed pool; when every batch is in
 * flight the ingest blocks on the free ring, which is the backpressure.
 * From a pipe, a partial batch is handed on once its first line has waited
 * 50 ms (5 ms with early updates: they promise fresh windows), instead of
 * waiting for a full one; polling wakes up at least that often, so a stop
 * request is seen promptly. A record longer than a batch is cut: its first 4 KiB go to
 * the dead letters as record_too_long and the rest is skipped. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "earshot/log.h"
#include "earshot/timeutil.h"
#include "pipeline_internal.h"

typedef struct ingest {
  es_pipe *p;
  es_batch *b;
  uint64_t seq, line_no;
  int64_t first_ms; /* when the current batch got its first line (monotonic), 0 = none yet */
  size_t line_start, scan;
  bool discarding; /* skipping the tail of a too-long record */
} ingest;

static void dispatch(ingest *g) { es__batch_dispatch(g->p, g->b, &g->seq); }

/* Hands the current batch on, carrying the partial line into a fresh one. */
static void rotate(ingest *g) {
  es_batch *old = g->b, *nb = es__batch_take(g->p);
  size_t carry = old->len - g->line_start;
  memcpy(nb->data, old->data + g->line_start, carry);
  nb->len = carry;
  old->len = g->line_start;
  dispatch(g);
  g->b = nb;
  g->line_start = 0;
  g->scan = 0;
  g->first_ms = 0;
}

static void add_line(ingest *g, size_t start, size_t len, bool too_long) {
  es_batch *b = g->b;
  while (len && b->data[start + len - 1] == '\r') len--;
  size_t k = 0;
  while (k < len && (b->data[start + k] == ' ' || b->data[start + k] == '\t')) k++;
  if (k == len) return; /* blank line: not a record */
  b->off[b->nlines] = (uint32_t)start;
  b->len_[b->nlines] = (uint32_t)len;
  b->line_no[b->nlines] = g->line_no;
  b->kpart[b->nlines] = -1;
  b->kts[b->nlines] = INT64_MIN;
  b->too_long[b->nlines] = too_long;
  b->nlines++;
}

/* Scans newly read bytes for complete lines. */
static void scan_lines(ingest *g) {
  for (;;) {
    es_batch *b = g->b;
    if (g->discarding) {
      char *nl = memchr(b->data + g->scan, '\n', b->len - g->scan);
      if (!nl) {
        b->len = g->line_start; /* drop the skipped bytes */
        g->scan = b->len;
        return;
      }
      size_t after = (size_t)(nl - b->data) + 1;
      memmove(b->data + g->line_start, b->data + after, b->len - after);
      b->len -= after - g->line_start;
      g->scan = g->line_start;
      g->discarding = false;
      continue;
    }
    char *nl = memchr(b->data + g->scan, '\n', b->len - g->scan);
    if (!nl) {
      g->scan = b->len;
      return;
    }
    size_t end = (size_t)(nl - b->data);
    g->line_no++;
    add_line(g, g->line_start, end - g->line_start, false);
    g->line_start = g->scan = end + 1;
    if (b->nlines == ES_BATCH_MAX_LINES) rotate(g);
  }
}

void *es__ingest_main(void *arg) {
  es_pipe *p = arg;
  ingest g = {.p = p};
  g.b = es__batch_take(p);
  bool is_pipe = p->in_size == 0;
  int64_t linger = p->cfg->windows.early_ms ? 5 : 50;
  for (;;) {
    if (*p->stop) break;
    es_batch *b = g.b;
    size_t room = ES_BATCH_BYTES - ES_DECODE_PADDING - b->len;
    if (room == 0) {
      if (g.line_start > 0) {
        rotate(&g);
        continue;
      }
      /* One record fills the whole batch: keep its head for the DLQ. */
      g.line_no++;
      b->len = ES_TOO_LONG_KEEP;
      add_line(&g, 0, ES_TOO_LONG_KEEP, true);
      g.line_start = g.scan = ES_TOO_LONG_KEEP;
      g.discarding = true;
      rotate(&g);
      continue;
    }
    if (is_pipe) {
      int timeout = 50;
      if (b->nlines) {
        int64_t left = g.first_ms + linger - es_time_mono_ms();
        if (left <= 0) {
          rotate(&g);
          continue;
        }
        if (left < timeout) timeout = (int)left;
      }
      struct pollfd pfd = {.fd = p->in_fd, .events = POLLIN};
      int pr = poll(&pfd, 1, timeout);
      if (pr == 0) {
        if (b->nlines) rotate(&g); /* a slow stream: hand on what we have */
        continue;
      }
      if (pr < 0 && errno == EINTR) continue;
    }
    ssize_t n = read(p->in_fd, b->data + b->len, room);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      es_log_error("reading the input failed", "source=%s error=\"%s\"", p->source, strerror(errno));
      p->ingest_err = ES_EIO;
      break;
    }
    if (n == 0) break;
    b->len += (size_t)n;
    scan_lines(&g);
    if (g.b->nlines && !g.first_ms) g.first_ms = es_time_mono_ms();
  }
  /* End of input: a last line without '\n' is still a record. */
  if (!g.discarding && g.b->len > g.line_start) {
    g.line_no++;
    add_line(&g, g.line_start, g.b->len - g.line_start, false);
  }
  /* Dispatched even when empty: only the aggregator may push to the free
   * ring (it is single-producer), so an unused batch travels the normal
   * way. */
  dispatch(&g);
  /* One end marker per worker, continuing the sequence, so the aggregator
   * meets the first one exactly where the next batch would have been. */
  for (int i = 0; i < p->nworkers; i++) {
    g.b = es__batch_take(p);
    g.b->eof = true;
    dispatch(&g);
  }
  return NULL;
}
