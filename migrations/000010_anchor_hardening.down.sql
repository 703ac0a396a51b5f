-- Orphaned batches hold no record (their records went back to the outbox
-- and were anchored again under other ids): before this migration there
-- was no such state, so they go.
DELETE FROM anchor_batches WHERE status = 'orphaned';
DROP INDEX anchor_batches_open;
CREATE INDEX anchor_batches_open ON anchor_batches (id) WHERE status <> 'confirmed';
ALTER TABLE anchor_batches DROP COLUMN orphaned_at;
ALTER TABLE anchor_batches DROP CONSTRAINT anchor_batches_status_check;
ALTER TABLE anchor_batches ADD CONSTRAINT anchor_batches_status_check
    CHECK (status IN ('prepared', 'sent', 'confirmed'));

DROP TABLE anchor_lease;
