/* Crash points (include/earshot/crash.h). The variable is read once, by
 * whichever thread gets there first; every thread then compares names. */
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/crash.h"

void es_crash_point(const char *point) {
  static _Atomic int armed = -1; /* -1 unread, 2 being read, 0 off, 1 on */
  static char target[32];
  static long target_n;
  static _Atomic long seen;
  int state = atomic_load_explicit(&armed, memory_order_acquire);
  if (state == 0) return;
  if (state != 1) {
    int unread = -1;
    if (atomic_compare_exchange_strong(&armed, &unread, 2)) { /* this thread reads EARSHOT_CRASH_AT=POINT:N */
      const char *v = getenv("EARSHOT_CRASH_AT");
      const char *colon = v ? strchr(v, ':') : NULL;
      long n = colon ? strtol(colon + 1, NULL, 10) : 0;
      bool on = colon && n > 0 && (size_t)(colon - v) < sizeof target;
      if (on) {
        memcpy(target, v, (size_t)(colon - v));
        target[colon - v] = 0;
        target_n = n;
      }
      atomic_store_explicit(&armed, on ? 1 : 0, memory_order_release);
    }
    while ((state = atomic_load_explicit(&armed, memory_order_acquire)) == 2) {
      /* another thread is reading it: a few instructions */
    }
    if (state == 0) return;
  }
  if (!strcmp(point, target) && atomic_fetch_add(&seen, 1) + 1 == target_n) {
    fprintf(stderr, "earshot: EARSHOT_CRASH_AT=%s:%ld reached: killing this process\n", target, target_n);
    raise(SIGKILL);
  }
}
