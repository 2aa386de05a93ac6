/* Bounded single-producer/single-consumer ring of pointers, with blocking
 * push and pop that sleep on a futex instead of spinning.
 *
 * The producer owns `tail`, the consumer owns `head`; each publishes with a
 * release store and reads the other's with an acquire load, so a slot's
 * content is visible before its index is. A sleeper waits on the index it
 * needs to change; the other side wakes it after every publish (one
 * futex_wake per batch, which carries thousands of mentions). Exactly one
 * producer thread and one consumer thread per ring. */
#ifndef EARSHOT_RING_INTERNAL_H
#define EARSHOT_RING_INTERNAL_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "earshot/mem.h"

typedef struct es_ring {
  _Alignas(64) _Atomic uint32_t head; /* next slot to pop */
  _Alignas(64) _Atomic uint32_t tail; /* next slot to push */
  _Alignas(64) uint32_t mask;
  void **slots;
} es_ring;

static inline int es__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t timeout_ms) {
  struct timespec ts, *tp = NULL;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = (timeout_ms % 1000) * 1000000;
    tp = &ts;
  }
  return (int)syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0);
}

static inline void es__futex_wake(_Atomic uint32_t *addr) {
  syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* capacity must be a power of two. */
static inline int es_ring_init(es_ring *r, uint32_t capacity) {
  atomic_init(&r->head, 0);
  atomic_init(&r->tail, 0);
  r->mask = capacity - 1;
  r->slots = es_calloc(capacity, sizeof *r->slots);
  return r->slots ? 0 : -1;
}

static inline void es_ring_free(es_ring *r) { es_free(r->slots); }

static inline void es_ring_push(es_ring *r, void *p) {
  uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
  for (;;) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t - h <= r->mask) break;
    es__futex_wait(&r->head, h, -1); /* full: wait for the consumer to move head */
  }
  r->slots[t & r->mask] = p;
  atomic_store_explicit(&r->tail, t + 1, memory_order_release);
  es__futex_wake(&r->tail);
}

/* Pops into *out; waits at most timeout_ms (-1 = forever). Returns false on
 * timeout. */
static inline bool es_ring_pop(es_ring *r, void **out, int64_t timeout_ms) {
  uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
  uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
  if (h == t) {
    if (timeout_ms == 0) return false;
    es__futex_wait(&r->tail, t, timeout_ms);
    t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h == t) {
      if (timeout_ms > 0) return false;
      return es_ring_pop(r, out, timeout_ms); /* spurious wake-up */
    }
  }
  *out = r->slots[h & r->mask];
  atomic_store_explicit(&r->head, h + 1, memory_order_release);
  es__futex_wake(&r->head);
  return true;
}

/* How many pointers are in the ring (a snapshot, for metrics; any thread). */
static inline uint32_t es_ring_count(es_ring *r) {
  return atomic_load_explicit(&r->tail, memory_order_acquire) - atomic_load_explicit(&r->head, memory_order_acquire);
}

#endif
