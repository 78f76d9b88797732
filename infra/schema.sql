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

-- version: bumped by every write of phase 3's optimistic strategy, which
-- writes only if the version is still the one it read (compare-and-set).
-- Added after the fact, so that an existing lab database gets it too.
ALTER TABLE events ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
