/* Kafka as the pipeline's input and output (engine/kafka): a consumer group
 * on cfg->kafka.topics, an idempotent producer for windows, alerts,
 * enriched mentions and dead letters, input offsets committed only once
 * every output record before them is acknowledged. */
#ifndef EARSHOT_KAFKA_H
#define EARSHOT_KAFKA_H

#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/pipeline.h"

/* The consumer (subscribed) and producer of cfg->kafka, as an input for
 * es_pipeline_run (es_run_io.input) that brings its own sink. cfg must
 * outlive it. NULL with diag when the configuration is refused. Free with
 * es_input_destroy after the run. */
es_input *es_kafka_input_create(const es_config *cfg, es_diag *d);

#endif
