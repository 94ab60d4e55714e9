-- The relay sleeps on LISTEN keel_outbox instead of polling hard. One notification per
-- statement (a group-commit batch is one statement), and PostgreSQL folds identical
-- notifications of one transaction into one, so a busy writer pays almost nothing.
CREATE FUNCTION keel_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('keel_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION keel_outbox_notify();
