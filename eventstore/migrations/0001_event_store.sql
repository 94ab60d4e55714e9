-- The event store of one service (database per service).

CREATE TABLE events (
    -- Assigned at insert; commit order may differ, so readers of the global log order by
    -- (transaction_id, position) below the snapshot horizon instead of by position alone.
    position        bigserial   PRIMARY KEY,
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_type     text        NOT NULL,
    version         bigint      NOT NULL CHECK (version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    payload         jsonb       NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    metadata        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    -- The optimistic concurrency guard.
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_global_order ON events (transaction_id, position);

CREATE TABLE snapshots (
    stream_id        text        PRIMARY KEY,
    stream_type      text        NOT NULL,
    version          bigint      NOT NULL,
    snapshot_version integer     NOT NULL,
    state            jsonb       NOT NULL,
    taken_at         timestamptz NOT NULL DEFAULT now()
);

-- Slim on purpose: every append pays for these rows. Read as a queue (oldest first,
-- deleted after publishing), so a row that commits late is still found next time.
CREATE TABLE outbox (
    id       bigserial PRIMARY KEY,
    position bigint    NOT NULL
);

CREATE TABLE idempotency_keys (
    key            text        PRIMARY KEY,
    request_hash   text        NOT NULL,
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
