/* parse.h -- strict parsing of what users type: ids in query strings and
 * numbers on command lines. Nothing here trusts its input; nothing allocates. */
#ifndef LAB_PARSE_H
#define LAB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest id accepted: 2^53, so an id survives a trip through JSON. */
#define PARSE_ID_MAX 9007199254740992LL
#define PARSE_REQUEST_ID_MAX 64

/* parse_long: S must be a whole decimal number in [MIN, MAX], with no sign
 * other than a leading '-', no blanks and nothing after it. */
bool parse_long(const char *s, long long min, long long max, long long *out);

/* parse_id: a positive id, 1 .. PARSE_ID_MAX. */
bool parse_id(const char *s, long long *out);

/* parse_request_id: 1 .. 64 characters of [A-Za-z0-9_-]. */
bool parse_request_id(const char *s);

/* parse_host_port: "host:port" into HOST (size HOST_LEN) and PORT. */
bool parse_host_port(const char *s, char *host, int host_len, int *port);

/* parse_fail writes a printf-style reason for refusing a command line into
 * ERR (size ERR_LEN) and returns -1: how every option parser refuses. */
int parse_fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* parse_next_option reads the option at ARGV[*I], "--name value" or
 * "--name=value", into NAME (NAME_LEN bytes) and *VALUE, and moves *I past
 * its value; KNOWN says which names there are, and each takes a value.
 * 1 for --help or -h, 0 for an option, -1 with the reason in ERR. The
 * tools' parsers (replay, explore) walk their command lines with it. */
int parse_next_option(int argc, char **argv, int *i, bool (*known)(const char *name),
                      char *name, size_t name_len, const char **value, char *err,
                      size_t err_len);

/* parse_option_long reads option NAME's VALUE as a whole number in
 * [MIN, MAX]; 0, or -1 with a reason naming the option and the range. */
int parse_option_long(const char *name, const char *value, long long min, long long max,
                      long long *out, char *err, size_t err_len);

#endif
