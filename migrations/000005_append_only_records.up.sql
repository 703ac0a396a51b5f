-- Records become append-only: a record row is written once, at ingest, and
-- never updated. Its anchoring state moves beside it:
--
--   outbox          the records waiting to be anchored (a narrow row each,
--                   deleted when the record's batch is confirmed), read by
--                   the anchoring worker in seq order;
--   record_anchors  where each anchored record sits: its batch and leaf.
--
-- Marking a batch's records anchored used to rewrite every record row, body
-- included (about 1.2 kB) with four index entries each: the biggest write
-- of the service, and under ingest load the cause of its latency tail.
-- Deleting outbox rows and inserting narrow anchor rows writes a fraction
-- of that, and leaves the ledger rows as they were written.
CREATE TABLE outbox (
    id         uuid        PRIMARY KEY,
    seq        bigint      NOT NULL UNIQUE,
    kind       text        NOT NULL,
    leaf_hash  bytea       NOT NULL CHECK (length(leaf_hash) = 32),
    created_at timestamptz NOT NULL
);

-- The outbox is a queue, vacuumed often (storage.Outbox.Confirm does it
-- every few thousand records). A vacuum may truncate the table's empty tail,
-- which takes an exclusive lock that blocks every ingest's insert while it
-- lasts: measured as 100-400 ms stalls of ingest. A queue reuses its space
-- anyway, so vacuums here never truncate.
ALTER TABLE outbox SET (vacuum_truncate = false);

-- No foreign keys: a row is written only by the transaction that confirms
-- its batch (storage.Outbox.Confirm), and a per-row key check would double
-- the cost of that write. A row outlives a deleted record row (the batch
-- audit then names the record from the batch's own list of ids).
CREATE TABLE record_anchors (
    record_id   uuid        PRIMARY KEY,
    batch_id    bigint      NOT NULL,
    leaf_index  integer     NOT NULL CHECK (leaf_index >= 0),
    anchored_at timestamptz NOT NULL,
    UNIQUE (batch_id, leaf_index)
);

INSERT INTO outbox (id, seq, kind, leaf_hash, created_at)
    SELECT id, seq, kind, leaf_hash, created_at FROM records WHERE status = 'pending';
INSERT INTO record_anchors (record_id, batch_id, leaf_index, anchored_at)
    SELECT id, batch_id, leaf_index, coalesce(anchored_at, created_at) FROM records WHERE status = 'anchored';

-- Dropping the columns drops their indexes (records_pending,
-- records_pending_id, records_batch_leaf) and constraints with them.
ALTER TABLE records
    DROP COLUMN status,
    DROP COLUMN batch_id,
    DROP COLUMN leaf_index,
    DROP COLUMN anchored_at;
