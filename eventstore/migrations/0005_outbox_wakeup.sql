-- 0003 notified on every append statement. A notifying commit takes a cluster-wide lock
-- until it is durable, so appends could no longer share WAL flushes (about 23% of append
-- throughput at 32 writers), and a listening relay woke for every statement. Now the relay
-- asks for a wake-up only when it found the outbox empty (it re-reads after asking, and
-- polls briefly after activity); the first append after that notifies, the others skip.
CREATE TABLE outbox_wakeup (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    armed boolean NOT NULL DEFAULT false
);
INSERT INTO outbox_wakeup DEFAULT VALUES;

CREATE OR REPLACE FUNCTION keel_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The try-lock keeps concurrent appends from queueing on the flag's row: one of them
    -- disarms and notifies, the rest go on.
    IF (SELECT armed FROM outbox_wakeup) AND pg_try_advisory_xact_lock(7301164952) THEN
        UPDATE outbox_wakeup SET armed = false WHERE armed;
        IF FOUND THEN
            PERFORM pg_notify('keel_outbox', '');
        END IF;
    END IF;
    RETURN NULL;
END
$$;
