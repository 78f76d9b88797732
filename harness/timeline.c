/* timeline.c -- the run over time as CSV rows: see timeline.h. */
#include "timeline.h"

#include <errno.h>
#include <string.h>

const char timeline_csv_header[] = "t_s,finished,accepted,decided";

/* timeline_open starts the file with its header. The file is truncated,
 * not appended to: one timeline is one run, and the caller names it. */
int timeline_open(struct timeline *tl, const char *path, char *err, size_t err_len)
{
    memset(tl, 0, sizeof *tl);
    if (!path || path[0] == '\0')
        return 0;
    tl->out = fopen(path, "w");
    if (!tl->out) {
        snprintf(err, err_len, "cannot write the timeline %s: %s", path, strerror(errno));
        return -1;
    }
    if (fprintf(tl->out, "%s\n", timeline_csv_header) < 0)
        tl->failed = true;
    return 0;
}

void timeline_start(struct timeline *tl, uint64_t start_us)
{
    tl->start_us = start_us;
}

/* timeline_row writes one sample; a clock that reads before the start
 * (it cannot, but a caller's mistake must not print 18446744 s) is 0. */
void timeline_row(struct timeline *tl, uint64_t now_us, long long finished, long long accepted,
                  long long decided)
{
    double t_s;

    if (!tl->out)
        return;
    t_s = now_us > tl->start_us ? (double)(now_us - tl->start_us) / 1e6 : 0.0;
    if (fprintf(tl->out, "%.3f,%lld,%lld,%lld\n", t_s, finished, accepted, decided) < 0)
        tl->failed = true;
}

/* timeline_close flushes and closes; a failed write anywhere is reported
 * here once, rather than on every row. */
int timeline_close(struct timeline *tl, char *err, size_t err_len)
{
    bool failed = tl->failed;

    if (!tl->out)
        return 0;
    if (fclose(tl->out) != 0)
        failed = true;
    tl->out = NULL;
    if (failed) {
        snprintf(err, err_len, "the timeline could not be written whole");
        return -1;
    }
    return 0;
}
