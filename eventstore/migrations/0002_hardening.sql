-- One snapshot per stream and snapshot schema version: during a rolling deploy the old and
-- the new binary each keep their own instead of replacing each other's.
ALTER TABLE snapshots DROP CONSTRAINT snapshots_pkey;
ALTER TABLE snapshots ADD PRIMARY KEY (stream_id, snapshot_version);

-- A key answered without appending (a refusal, a command that changed nothing) is kept
-- with its answer, so a retry gets the same one.
ALTER TABLE idempotency_keys ADD COLUMN answer jsonb;
-- Keys are kept for a retention period; the cleanup deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
