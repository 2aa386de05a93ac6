/* The embedded Kafka-protocol broker: librdkafka's mock cluster, reachable
 * over TCP on 127.0.0.1 by any Kafka client. For local work, tests and the
 * demo; it keeps at most ~5 MiB per partition and does not emulate
 * transactions (see shared/KAFKA-TESTING.md). Main thread. */
#ifndef EARSHOT_BROKER_H
#define EARSHOT_BROKER_H

#include <stddef.h>

#include "earshot/error.h"

typedef struct es_broker es_broker;

/* Starts a cluster of `brokers` brokers. NULL with diag on failure. */
es_broker *es_broker_start(int brokers, es_diag *d);
void es_broker_stop(es_broker *b); /* NULL-safe */
/* "127.0.0.1:port,..." */
const char *es_broker_bootstraps(const es_broker *b);
/* Creates a topic; must happen before any client asks for it, or the
 * broker auto-creates it with 4 partitions. */
int es_broker_create_topic(es_broker *b, const char *name, int partitions, es_diag *d);
/* One control command (see `earshot broker` help): writes a one-line reply
 * into reply[cap] and returns 0, or ES_EINVAL with the reply saying why. */
int es_broker_command(es_broker *b, const char *line, char *reply, size_t cap);

#endif
