ALTER TABLE records
    ADD COLUMN status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'anchored')),
    ADD COLUMN batch_id    bigint      REFERENCES anchor_batches (id),
    ADD COLUMN leaf_index  integer,
    ADD COLUMN anchored_at timestamptz,
    ADD CHECK ((status = 'pending') = (batch_id IS NULL)),
    ADD CHECK ((batch_id IS NULL) = (leaf_index IS NULL));

UPDATE records r SET status = 'anchored', batch_id = ra.batch_id, leaf_index = ra.leaf_index, anchored_at = ra.anchored_at
    FROM record_anchors ra WHERE ra.record_id = r.id;

CREATE INDEX records_pending ON records (seq) WHERE status = 'pending';
CREATE UNIQUE INDEX records_batch_leaf ON records (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
CREATE INDEX records_pending_id ON records (id) WHERE status <> 'anchored';

DROP TABLE record_anchors;
DROP TABLE outbox;
