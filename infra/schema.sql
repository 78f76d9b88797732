-- schema.sql -- the lab's tables and its one event. Idempotent: applied on
-- every `infra/services.sh up` (as the lab role), whether the services are the
-- native ones or docker-compose's.

-- events: one row per event. available_seats is the counter the services
-- decrement, what the audit calls "Database Says". Deliberately NO check
-- constraint (available_seats >= 0): phase 2 must be free to oversell.
CREATE TABLE IF NOT EXISTS events (
    id              bigint  PRIMARY KEY,
    name            text    NOT NULL,
    total_seats     integer NOT NULL,
    available_seats integer NOT NULL
);

-- tickets: one row per sold seat, the truth the audit counts. request_id is
-- unique so that a redelivered Kafka message cannot book twice; nothing else
-- is constrained (one user may hold two tickets: the audit reports it).
CREATE TABLE IF NOT EXISTS tickets (
    id         bigserial   PRIMARY KEY,
    event_id   bigint      NOT NULL REFERENCES events (id),
    user_id    bigint      NOT NULL,
    request_id text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS tickets_request_id_key ON tickets (request_id);
CREATE INDEX IF NOT EXISTS tickets_event_user_idx ON tickets (event_id, user_id);

-- decisions: the requests the asynchronous phases (5, 6) turned down; a
-- booked request is its ticket row instead. Together they answer
-- GET /api/bookings/result.
CREATE TABLE IF NOT EXISTS decisions (
    request_id text        PRIMARY KEY,
    event_id   bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    decision   text        NOT NULL CHECK (decision IN ('sold_out', 'failed')),
    decided_at timestamptz NOT NULL DEFAULT now()
);

-- The event every attack targets.
INSERT INTO events (id, name, total_seats, available_seats)
VALUES (1, 'The last 100 seats', 100, 100)
ON CONFLICT (id) DO NOTHING;

-- Integrity of a sale (docs/architecture.md, "Integrity of a sale").
-- generation: bumped by every reset; a booking or a queued message carries the
-- generation it was admitted in and never books into a later one.
-- per_user_limit: the lab's one policy, tickets one user may hold for the
-- event (reset's perUser=N, default 1); enforced by the booking's INSERT,
-- which the safe phases run under their lock; phase 2 races past it.
ALTER TABLE events ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN IF NOT EXISTS per_user_limit integer NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 1;
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT 1;
ALTER TABLE decisions DROP CONSTRAINT IF EXISTS decisions_decision_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_decision_check
    CHECK (decision IN ('sold_out', 'failed', 'limit', 'stale'));

-- requests: one row per request id, claimed before the booking (phases 2, 3
-- and 5; the gate phases keep theirs in Redis). A retry with the same id gets
-- the stored answer; state 'in_progress' until the first one is answered.
CREATE TABLE IF NOT EXISTS requests (
    request_id text        PRIMARY KEY,
    event_id   bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    generation bigint      NOT NULL,
    state      text        NOT NULL DEFAULT 'in_progress',
    ticket_id  bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS requests_event_idx ON requests (event_id);
-- UNLOGGED: a claim costs no WAL flush; a crash empties the table, and a retry
-- after it is a new try, which the unique tickets.request_id still keeps from
-- booking twice.
ALTER TABLE requests SET UNLOGGED;
-- holder_pid: the PostgreSQL backend (a booking thread's connection) that
-- claimed the id. A claim still in_progress whose backend has ended (the
-- service was killed, or PostgreSQL restarted) is found by the next request
-- with the id, which resolves it from the tickets (docs/architecture.md).
ALTER TABLE requests ADD COLUMN IF NOT EXISTS holder_pid integer NOT NULL DEFAULT 0;

-- version: bumped by every write of phase 3's optimistic strategy, which
-- writes only if the version is still the one it read (compare-and-set).
-- Added after the fact, so that an existing lab database gets it too.
ALTER TABLE events ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
