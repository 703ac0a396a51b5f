-- The transaction that inserted each alert, so that the live stream can
-- follow alerts in the order they became visible: an alert whose
-- transaction commits late has a smaller txid than alerts committed before
-- it, and the stream only passes a txid once every older transaction has
-- ended (pg_snapshot_xmin), so it never skips one. Alerts stored before
-- this migration share the migration's transaction, ordered by id.
ALTER TABLE alerts ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX alerts_commit_order ON alerts (txid, id);
