-- Fencing the anchoring lock. The worker holds a PostgreSQL advisory lock
-- on a session of its own; when that session dies the lock is free for
-- another worker, but the former holder may still be running (stalled, its
-- watch of the session not fired yet) and write when it wakes. Every time
-- the lock is taken, epoch grows by one and the new holder keeps it as its
-- fencing token; every write of the worker (prepare, sent, confirm, and the
-- re-check's changes) checks in its own transaction, under a share lock of
-- this row, that its token is still the latest, and writes nothing if not.
-- The increment takes the row's update lock, so it waits for a write
-- already under way and every write after it sees the new epoch.
CREATE TABLE anchor_lease (
    singleton boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    epoch     bigint      NOT NULL CHECK (epoch >= 0),
    taken_at  timestamptz NOT NULL
);
INSERT INTO anchor_lease (epoch, taken_at) VALUES (0, now());

-- The re-check: a confirmed batch whose transaction a reorg dropped (and no
-- node holds any more) becomes orphaned: its record_anchors rows are
-- removed and its records go back to the outbox, to be anchored again under
-- a new batch id (the registry refuses an id twice, and the old transaction
-- might come back). An orphaned batch is neither open nor confirmed.
ALTER TABLE anchor_batches DROP CONSTRAINT anchor_batches_status_check;
ALTER TABLE anchor_batches ADD CONSTRAINT anchor_batches_status_check
    CHECK (status IN ('prepared', 'sent', 'confirmed', 'orphaned'));
ALTER TABLE anchor_batches ADD COLUMN orphaned_at timestamptz;
DROP INDEX anchor_batches_open;
CREATE INDEX anchor_batches_open ON anchor_batches (id) WHERE status IN ('prepared', 'sent');
