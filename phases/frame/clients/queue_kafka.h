/* queue_kafka.h -- private to queue_producer.c and queue_consumer.c: the
 * librdkafka helpers both sides use. Not part of queue.h's interface. */
#ifndef LAB_QUEUE_KAFKA_H
#define LAB_QUEUE_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "clients/queue.h"

/* queue_conf_set sets one property; on refusal ERR says which, and false. */
bool queue_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                    size_t err_len);

/* queue_conf_new: a configuration with the bootstrap BROKERS and the lab's
 * log callback; NULL with ERR set if BROKERS is refused. */
rd_kafka_conf_t *queue_conf_new(const char *brokers, char *err, size_t err_len);

/* queue_broker_check asks for the cluster's metadata within TIMEOUT_MS; with
 * a TOPIC, *PARTITIONS gets its partition count (0: no such topic). */
bool queue_broker_check(rd_kafka_t *rk, const char *brokers, const char *topic,
                        int *partitions, int timeout_ms, char *err, size_t err_len);

/* queue_deadline_left: milliseconds until DEADLINE_US (lab_now_us() time), >= 0. */
int queue_deadline_left(uint64_t deadline_us);

#endif
