-- Anchoring: what the worker needs to keep about a batch so that proofs and
-- audits never depend on other rows surviving.
--
-- leaves is the batch's leaf hashes in leaf order (32 bytes each) and
-- record_ids the matching record ids (16 bytes each), both written once when
-- the batch is prepared. Inclusion proofs are computed from leaves, so a
-- deleted or altered neighbour row does not stop a record from being
-- verified, and a batch audit can name a deleted record by id.
-- kind is the record-kind code sent to the registry (see anchor.KindCode).
ALTER TABLE anchor_batches
    ADD COLUMN kind       smallint NOT NULL DEFAULT 0 CHECK (kind BETWEEN 0 AND 255),
    ADD COLUMN leaves     bytea    NOT NULL DEFAULT ''::bytea,
    ADD COLUMN record_ids bytea    NOT NULL DEFAULT ''::bytea,
    ADD CONSTRAINT anchor_batches_leaves_len
        CHECK (length(leaves) = 32 * leaf_count AND length(record_ids) = 16 * leaf_count);
ALTER TABLE anchor_batches ALTER COLUMN leaves DROP DEFAULT;
ALTER TABLE anchor_batches ALTER COLUMN record_ids DROP DEFAULT;

