/* libFuzzer target: the HTTP request path as a client reaches it. The real
 * server (include/earshot/http.h) runs in this process on 127.0.0.1, with
 * a bearer token, a short head timeout and live views holding a few
 * windows and an open alert; each input is sent as raw bytes on a new
 * connection (then the write side is shut), and the answer read to the
 * server's close. The server must answer with an HTTP/1.1 status line or
 * close quietly (an incomplete head), never crash, leak or hang: a hang
 * shows as the read timing out. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "earshot/http.h"

static es_http *server;
static struct sockaddr_in addr;

static void feed(es_sink *s, int i, int cls, int as) {
  static es_query q = {.id = "fees", .name = "Fee complaints"};
  es_window_result w = {.size_ms = 60000, .index = 29453760 + i, .count = 40 + (uint64_t)i, .final = true};
  w.start_ms = w.index * 60000;
  w.end_ms = w.start_ms + 60000;
  es_detect_result d = {.cls = cls, .alert_state = as, .expected = 10, .lift = 4, .p_value = 1e-9};
  es_detect_state st = {0};
  es_sink_window e = {.q = &q, .w = &w, .d = &d, .st = &st};
  s->ops->window(s, &e);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  es_diag d = {{0}};
  es_http_opts o = {.listen = "127.0.0.1:0", .token = "fuzz-token", .max_connections = 16, .head_timeout_ms = 200,
                    .history = 8, .version = "fuzz", .config_json = "{\"fuzz\":true}"};
  if (!(server = es_http_start(&o, &d))) {
    fprintf(stderr, "fuzz_http: %s\n", d.msg);
    abort();
  }
  es_sink *s = es_http_sink(server);
  for (int i = 0; i < 12; i++) feed(s, i, i == 11 ? ES_CLASS_SPIKE : ES_CLASS_NORMAL, i == 11 ? ES_ALERT_OPENED : 0);
  int port = atoi(strrchr(es_http_url(server), ':') + 1);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct timeval tv = {.tv_sec = 5};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr)) {
    close(fd);
    return 0;
  }
  for (size_t off = 0; off < size;) {
    ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
    if (n <= 0) break; /* the server answered and closed early (a limit) */
    off += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  char buf[65536];
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(fd, buf + (got < 16 ? got : 16), got < 16 ? sizeof buf - got : sizeof buf - 16, 0);
    if (n == 0) break;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      fprintf(stderr, "fuzz_http: no answer and no close within 5 s\n");
      abort();
    }
    if (n < 0) break; /* reset: the server closed before reading everything sent */
    if (got < 16) got += (size_t)n;
  }
  close(fd);
  if (got && (got < 9 || memcmp(buf, "HTTP/1.1 ", 9))) {
    fprintf(stderr, "fuzz_http: an answer that is not an HTTP/1.1 status line\n");
    abort();
  }
  return 0;
}
