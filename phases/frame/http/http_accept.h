/* http_accept.h -- the service's own listening socket, in front of
 * libmicrohttpd (docs/architecture.md, "Memory and file descriptors").
 *
 * libmicrohttpd 0.9.75, at its connection limit or out of file descriptors,
 * stops accepting: a new client waits in the kernel's listen queue until it
 * gives up. This acceptor takes every connection itself and either hands it
 * to libmicrohttpd (MHD_add_connection) or, at the limit, answers it a short
 * 503 and closes it at once. With no descriptor left, a spare one is given
 * up for the time of one accept, so that the refusal still happens. */
#ifndef LAB_HTTP_ACCEPT_H
#define LAB_HTTP_ACCEPT_H

#include <microhttpd.h>
#include <stdbool.h>

struct http_acceptor;

/* http_accept_open binds and listens on HOST:PORT (IPv4); MAX_CONNS is the
 * most connections handed over at once. NULL, logged, on failure. */
struct http_acceptor *http_accept_open(const char *host, int port, unsigned max_conns);

/* http_accept_notify is libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION
 * callback, with the acceptor as its closure: it counts open connections. */
void http_accept_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe);

/* http_accept_start starts the accepting thread, feeding DAEMON. */
bool http_accept_start(struct http_acceptor *a, struct MHD_Daemon *daemon);

/* http_accept_close stops the thread (if started) and closes the socket;
 * call it before MHD_stop_daemon, and http_accept_free after it (the
 * daemon reports its connections' closing into the acceptor). */
void http_accept_close(struct http_acceptor *a);
void http_accept_free(struct http_acceptor *a);

/* How many clients were refused at the limit. */
unsigned long http_accept_refused(struct http_acceptor *a);

#endif
