/* Latency of the engine as a live dashboard sees it, measured from outside.
 *
 *   latency_bench EARSHOT QUERIES.yaml MENTIONS.jsonl [SECONDS] [FRACTIONS]
 *
 * Runs `earshot replay` reading a pipe, with windows of 1 s, lateness 0 and
 * early updates every 10 ms, and feeds it mentions whose event time is the
 * moment they are due (wall clock), at a steady rate. A catch-all query
 * (`/./s`, added to QUERIES) matches every mention, so its window records
 * say how many of each second's mentions they include: a record with
 * count c reflects the first c mentions of its window, in input order (the
 * engine keeps it). For each mention:
 *   update latency: due time -> the first record (early or final) of its
 *                   window that includes it;
 *   final latency:  due time -> its window's final record.
 * Due times, not write times, so a writer held up by a slow engine does not
 * hide the wait (no coordinated omission). Mentions due in the first
 * WARMUP_MS (the engine starting: loading the queries and lexicons) are
 * sent but not counted.
 *
 * First the maximum: MAX_COUNT mentions as fast as the pipe takes them,
 * rate = mentions / (first write -> the last final record). Then SECONDS
 * (default 4) at each fraction of it (default 0.25,0.5,0.9). Prints one
 * key=value line per run, with the percentiles and a histogram (mentions
 * per latency bucket, "upper bound in ms:count", the last bucket
 * unbounded). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 400000
#define WARMUP_MS 500

static int64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int64_t wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Texts (their JSON string literals) and authors of the corpus. */
static char **texts;
static size_t ntexts;

static void load_texts(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) perror(path), exit(1);
  char *line = NULL;
  size_t cap = 0;
  size_t capt = 1 << 16;
  texts = malloc(capt * sizeof *texts);
  while (getline(&line, &cap, f) > 0) {
    char *t = strstr(line, "\"text\":\"");
    if (!t) continue;
    t += 7;
    char *e = t + 1;
    while (*e && *e != '"') e += *e == '\\' ? 2 : 1;
    if (*e != '"') continue;
    if (ntexts == capt) texts = realloc(texts, (capt *= 2) * sizeof *texts);
    texts[ntexts++] = strndup(t, (size_t)(e - t + 1));
  }
  free(line);
  fclose(f);
  if (!ntexts) fprintf(stderr, "%s: no texts\n", path), exit(1);
}

/* One run's shared state: the writer fills due[] and the first mention of
 * each second; the reader turns window records into latencies. */
typedef struct run {
  size_t n;                 /* mentions to send */
  double rate;              /* per second; 0 = as fast as possible */
  int64_t *due;             /* per mention: due time (monotonic ns) */
  int64_t wall0_ms;         /* wall clock of the first mention's second */
  _Atomic size_t *first_of; /* per second since wall0: index of its first mention + 1 (0 = none yet) */
  size_t nsec;
  _Atomic size_t sent;
  int64_t *upd, *fin;       /* latencies, ns */
  size_t nupd, nfin;
  size_t *seen;             /* per second: mentions already reflected by a record */
  size_t nfinal_all;         /* mentions in final records, warm-up included */
  int64_t t_first, t_last_final;
} run;

static void *writer(void *arg) {
  run *r = ((void **)arg)[0];
  int fd = (int)(intptr_t)((void **)arg)[1];
  char *buf = malloc(1 << 20);
  int64_t t0 = mono_ns(), w0 = wall_ms();
  r->t_first = t0;
  size_t i = 0;
  while (i < r->n) {
    size_t upto = r->n;
    int64_t now = mono_ns();
    if (r->rate > 0) {
      upto = (size_t)((double)(now - t0) / 1e9 * r->rate) + 1;
      if (upto > r->n) upto = r->n;
      if (upto <= i) { /* ahead of schedule: wait for the next due time */
        int64_t next = t0 + (int64_t)((double)i / r->rate * 1e9);
        struct timespec ts = {.tv_sec = (next - now) / 1000000000, .tv_nsec = (next - now) % 1000000000};
        nanosleep(&ts, NULL);
        continue;
      }
    }
    size_t len = 0;
    for (; i < upto && len < (1 << 20) - 4096; i++) {
      int64_t due = r->rate > 0 ? t0 + (int64_t)((double)i / r->rate * 1e9) : mono_ns();
      int64_t ts = w0 + (due - t0) / 1000000; /* event time: when it was due */
      size_t sec = (size_t)((ts - r->wall0_ms) / 1000);
      if (sec >= r->nsec) sec = r->nsec - 1;
      r->due[i] = due;
      size_t expect = 0;
      atomic_compare_exchange_strong(&r->first_of[sec], &expect, i + 1);
      const char *t = texts[i % ntexts];
      if (strlen(t) > 3000) t = "\"fee\"";
      len += (size_t)sprintf(buf + len, "{\"id\":\"l%zu\",\"ts\":%lld,\"text\":%s,\"author\":\"a%zu\"}\n", i,
                             (long long)ts, t, i % 5000);
    }
    for (size_t off = 0; off < len;) {
      ssize_t k = write(fd, buf + off, len - off);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        perror("write");
        exit(1);
      }
      off += (size_t)k;
    }
    atomic_store(&r->sent, i);
  }
  close(fd);
  free(buf);
  return NULL;
}

static int64_t iso_ms(const char *s) {
  struct tm tm = {0};
  if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) return -1;
  return (int64_t)timegm(&tm) * 1000;
}

static void reader(run *r, FILE *f) {
  char line[1 << 16];
  while (fgets(line, sizeof line, f)) {
    int64_t now = mono_ns();
    if (strncmp(line, "{\"query\":\"every\",", 17)) continue;
    char *ws = strstr(line, "\"window_start\":\""), *c = strstr(line, "\"count\":");
    if (!ws || !c) continue;
    int64_t start = iso_ms(ws + 16);
    size_t count = strtoull(c + 8, NULL, 10);
    bool final = strstr(line, "\"final\":true") != NULL;
    if (start < r->wall0_ms) continue;
    size_t sec = (size_t)((start - r->wall0_ms) / 1000);
    if (sec >= r->nsec) continue;
    size_t first = atomic_load(&r->first_of[sec]);
    if (!first) continue;
    first--;
    int64_t from = r->t_first + (int64_t)WARMUP_MS * 1000000;
    for (size_t k = r->seen[sec]; k < count; k++)
      if (r->due[first + k] >= from) r->upd[r->nupd++] = now - r->due[first + k];
    if (count > r->seen[sec]) r->seen[sec] = count;
    if (final) {
      for (size_t k = 0; k < count; k++)
        if (r->due[first + k] >= from) r->fin[r->nfin++] = now - r->due[first + k];
      r->t_last_final = now;
      r->nfinal_all += count;
    }
  }
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Counts per latency bucket (upper bounds in ms, roughly 1-2-5 steps), as
 * "bound:count,..." for the histogram plot; v sorted. */
static void hist(const int64_t *v, size_t n, char *out, size_t cap) {
  static const double ub[] = {1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1000, 1500, 2000, 1e12};
  size_t i = 0, len = 0;
  out[0] = 0;
  for (size_t b = 0; b < sizeof ub / sizeof *ub && len < cap; b++) {
    size_t c = 0;
    while (i < n && (double)v[i] / 1e6 <= ub[b]) i++, c++;
    len += (size_t)snprintf(out + len, cap - len, "%s%g:%zu", b ? "," : "", ub[b] > 1e11 ? 1e9 : ub[b], c);
  }
}

static double pct(int64_t *v, size_t n, double p) {
  if (!n) return -1;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return (double)v[i] / 1e6;
}

/* One run of the engine; returns the mentions per second it reached. */
static double one_run(const char *bin, const char *queries, size_t n, double rate, const char *label) {
  run r = {.n = n, .rate = rate};
  r.due = calloc(n, sizeof *r.due);
  r.upd = malloc(n * sizeof *r.upd);
  r.fin = malloc(n * sizeof *r.fin);
  r.nsec = (rate > 0 ? (size_t)((double)n / rate) : 60) + 8;
  r.first_of = calloc(r.nsec, sizeof *r.first_of);
  r.seen = calloc(r.nsec, sizeof *r.seen);
  r.wall0_ms = wall_ms() / 1000 * 1000;
  int in[2], out[2];
  if (pipe(in) || pipe(out)) perror("pipe"), exit(1);
  fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    close(in[1]);
    close(out[0]);
    execl(bin, bin, "replay", "--queries", queries, "--window", "1s", "--lateness", "0s", "--early-updates", "10ms",
          "--idle-flush", "0", "--no-progress", "--no-reload", "--dlq-output", "/dev/null", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  void *args[2] = {&r, (void *)(intptr_t)in[1]};
  pthread_t th;
  pthread_create(&th, NULL, writer, args);
  FILE *f = fdopen(out[0], "r");
  reader(&r, f);
  fclose(f);
  pthread_join(th, NULL);
  int st;
  waitpid(pid, &st, 0);
  double secs = (double)(r.t_last_final - r.t_first) / 1e9;
  double reached = secs > 0 ? (double)n / secs : 0;
  qsort(r.upd, r.nupd, sizeof *r.upd, cmp64);
  qsort(r.fin, r.nfin, sizeof *r.fin, cmp64);
  char uh[512], fh[512];
  hist(r.upd, r.nupd, uh, sizeof uh);
  hist(r.fin, r.nfin, fh, sizeof fh);
  printf("run=%s rate=%.0f mentions=%zu reached_per_s=%.0f updated=%zu update_p50_ms=%.2f update_p99_ms=%.2f "
         "update_p999_ms=%.2f update_max_ms=%.2f final=%zu final_p50_ms=%.1f final_p99_ms=%.1f final_p999_ms=%.1f "
         "update_hist_ms=%s final_hist_ms=%s exit=%d\n",
         label, rate, n, reached, r.nupd, pct(r.upd, r.nupd, 0.5), pct(r.upd, r.nupd, 0.99), pct(r.upd, r.nupd, 0.999),
         r.nupd ? (double)r.upd[r.nupd - 1] / 1e6 : -1, r.nfin, pct(r.fin, r.nfin, 0.5), pct(r.fin, r.nfin, 0.99),
         pct(r.fin, r.nfin, 0.999), uh, fh, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  fflush(stdout);
  if (r.nfinal_all != n) fprintf(stderr, "latency_bench: %zu of %zu mentions reached a final record\n", r.nfinal_all, n);
  free(r.due);
  free(r.upd);
  free(r.fin);
  free(r.first_of);
  free(r.seen);
  return reached;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fputs("usage: latency_bench EARSHOT QUERIES.yaml MENTIONS.jsonl [SECONDS] [FRACTIONS]\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  double seconds = argc > 4 ? atof(argv[4]) : 4;
  const char *fractions = argc > 5 ? argv[5] : "0.25,0.5,0.9";
  load_texts(argv[3]);
  /* The queries plus the catch-all one. */
  char qpath[] = "/tmp/earshot-latency-XXXXXX";
  int qfd = mkstemp(qpath);
  FILE *src = fopen(argv[2], "r"), *dst = fdopen(qfd, "w");
  if (!src || !dst) perror(argv[2]), exit(1);
  char buf[1 << 16];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, src)) > 0) fwrite(buf, 1, k, dst);
  fputs("\n  - id: every\n    query: \"/./s\"\n", dst);
  fclose(src);
  fclose(dst);
  size_t max_n = (size_t)(seconds * 100000) > MAX_COUNT ? MAX_COUNT : (size_t)(seconds * 100000);
  if (max_n < 20000) max_n = 20000;
  double max = one_run(argv[1], qpath, max_n, 0, "max");
  for (const char *p = fractions; *p;) {
    double frac = strtod(p, (char **)&p);
    if (*p == ',') p++;
    char label[32];
    snprintf(label, sizeof label, "%.0f%%", frac * 100);
    double rate = frac * max;
    size_t n = (size_t)(rate * (seconds + WARMUP_MS / 1000.0));
    if (n < 100) n = 100;
    one_run(argv[1], qpath, n, rate, label);
  }
  unlink(qpath);
  return 0;
}
