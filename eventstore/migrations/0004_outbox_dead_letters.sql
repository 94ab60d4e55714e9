-- Outbox rows the relay could not publish (an event it cannot encode, a message over
-- Kafka's size limit), and the rows of the same stream queued behind them: a stream's order
-- matters, so it stops at its first poison row while other streams keep flowing. An
-- operator re-drives a stream (back into the outbox, in order) once the cause is fixed.
CREATE TABLE outbox_dead_letters (
    outbox_id  bigint      PRIMARY KEY,
    position   bigint      NOT NULL,
    stream_id  text        NOT NULL,
    reason     text        NOT NULL,
    parked_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbox_dead_letters_stream ON outbox_dead_letters (stream_id, outbox_id);
