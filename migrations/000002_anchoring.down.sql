ALTER TABLE anchor_batches
    DROP CONSTRAINT IF EXISTS anchor_batches_leaves_len,
    DROP COLUMN IF EXISTS record_ids,
    DROP COLUMN IF EXISTS leaves,
    DROP COLUMN IF EXISTS kind;
