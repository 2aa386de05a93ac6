/* Crash points for fault tests. With EARSHOT_CRASH_AT=POINT:N in the
 * environment, the process kills itself (SIGKILL, as a machine failure or
 * `kill -9` would) the N-th time any thread reaches es_crash_point(POINT).
 * The points: produce (before an output record is produced to Kafka),
 * flushed (outputs acknowledged, offsets not yet committed), committed
 * (just after a commit request), assigned (in a rebalance, partitions
 * being assigned), reload (a reloaded query set compiled, not yet
 * adopted). Without the variable a point costs one relaxed atomic load. */
#ifndef EARSHOT_CRASH_H
#define EARSHOT_CRASH_H

void es_crash_point(const char *point);

#endif
