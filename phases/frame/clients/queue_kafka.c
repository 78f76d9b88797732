/* queue_kafka.c -- the librdkafka helpers that the producer and the consumer
 * share (queue_kafka.h). */
#include "queue_kafka.h"

#include <stdio.h>
#include <string.h>

/*-----------------------------------------------------------------------------
 * Helpers shared by the producer and the consumer
 *----------------------------------------------------------------------------*/

/* queue_log_cb receives librdkafka's own log lines (connection refused,
 * broker down, ...) from its internal threads and writes them through
 * lab_log, which is thread-safe, so that they carry the lab's timestamp. */
static void queue_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    lab_log("kafka %s [%d] %s: %s", rd_kafka_name(rk), level, fac, buf);
}

/* queue_conf_secret: a property whose value is a secret (a password, a
 * key): never printed, not even in an error. */
static bool queue_conf_secret(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, ".key") ||
           strstr(name, "jaas");
}

/* queue_conf_set sets one configuration property and, when librdkafka refuses it,
 * says which one in ERR (a secret's value masked). The caller still owns CONF
 * either way. */
bool queue_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                     size_t err_len)
{
    char errstr[512];          /* librdkafka's reason for refusing the property */

    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return true;
    snprintf(err, err_len, "Kafka setting %s=%s refused: %s", name,
             queue_conf_secret(name) ? "***" : value, errstr);
    return false;
}

/* queue_trim cuts the blanks around S, in place: `name = value` reads as
 * name=value, as in a Java properties file. */
static char *queue_trim(char *s)
{
    char *end;

    s += strspn(s, " \t");
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

/* queue_conf_file applies the librdkafka properties of the file that
 * LAB_KAFKA_PROPERTIES names, one `name=value` a line (blanks around the
 * name and the value ignored; # starts a comment):
 * how a managed cluster's TLS and SASL settings reach the lab
 * (docs/bring-your-own.md), in a file rather than the environment or a
 * command line, where other users could read a password. No variable, no
 * file: nothing to do. */
static bool queue_conf_file(rd_kafka_conf_t *conf, char *err, size_t err_len)
{
    const char *path = lab_env("LAB_KAFKA_PROPERTIES", NULL);
    char line[1024];
    int line_no = 0;
    bool ok = true;
    FILE *f;

    if (!path)
        return true;
    if (!(f = fopen(path, "r"))) {
        snprintf(err, err_len, "LAB_KAFKA_PROPERTIES: cannot read %s", path);
        return false;
    }
    while (ok && fgets(line, sizeof line, f)) {
        char *eq, *end = line + strcspn(line, "\r\n");

        line_no++;
        *end = '\0';
        if (line[strspn(line, " \t")] == '#' || line[strspn(line, " \t")] == '\0')
            continue;
        if (!(eq = strchr(line, '='))) {
            snprintf(err, err_len, "LAB_KAFKA_PROPERTIES %s line %d: want name=value", path,
                     line_no);
            ok = false;
            break;
        }
        *eq = '\0';
        ok = queue_conf_set(conf, queue_trim(line), queue_trim(eq + 1), err, err_len);
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
    return ok;
}

/* queue_conf_new starts a configuration with what the producer and the consumer
 * have in common: the bootstrap brokers, the log callback and the properties
 * of LAB_KAFKA_PROPERTIES. NULL (with ERR
 * set) if BROKERS is refused. */
rd_kafka_conf_t *queue_conf_new(const char *brokers, char *err, size_t err_len)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    rd_kafka_conf_set_log_cb(conf, queue_log_cb);
    /* Small requests go out at once: with Nagle's algorithm on (librdkafka's
     * default) a produce request waited for the acknowledgement of the one
     * before it whenever several were in flight (docs/bench.md). */
    if (!queue_conf_set(conf, "bootstrap.servers", brokers, err, err_len) ||
        !queue_conf_set(conf, "socket.nagle.disable", "true", err, err_len) ||
        !queue_conf_file(conf, err, err_len)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* queue_broker_check asks RK for the cluster's metadata, which needs one broker to
 * answer: the simplest test that the broker is there at all. It waits at
 * most TIMEOUT_MS. With a TOPIC, the answer lists every topic (asking for
 * that one topic alone could make a broker with auto.create.topics.enable
 * create it, with its default partition count), and *PARTITIONS is set to
 * the topic's partition count, 0 if it does not exist. */
bool queue_broker_check(rd_kafka_t *rk, const char *brokers, const char *topic,
                         int *partitions, int timeout_ms, char *err, size_t err_len)
{
    const struct rd_kafka_metadata *md;   /* the cluster's answer, freed at once */
    rd_kafka_resp_err_t kerr;             /* why there is no answer */
    int i;

    kerr = rd_kafka_metadata(rk, topic != NULL, NULL, &md, timeout_ms);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, err_len, "Kafka at %s did not answer within %d ms (%s)", brokers,
                 timeout_ms, rd_kafka_err2str(kerr));
        return false;
    }
    if (topic) {
        *partitions = 0;
        for (i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, topic) == 0 &&
                md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                *partitions = md->topics[i].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    return true;
}

/* queue_deadline_left gives the milliseconds left until DEADLINE_US (lab_now_us()
 * time), never less than zero. */
int queue_deadline_left(uint64_t deadline_us)
{
    uint64_t now = lab_now_us();
    return now >= deadline_us ? 0 : (int)((deadline_us - now + 999) / 1000);
}
