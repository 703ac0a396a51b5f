-- Chain alerts (issue 10): the chain hunter's findings are alerts like the
-- flow alerts, rows of the same table, so that listing, filters, paging,
-- reports, proofs, exports, the live stream and webhooks apply to both. The
-- hashed body is a records row of kind 'chain_alert'; these columns are its
-- query copy, as the flow columns are for kind 'alert'. A chain alert's
-- sensor is 'chain:<chain id>', its observed_at the block's time, its flow
-- columns NULL. Flow alerts keep the new columns NULL and index nothing in
-- the partial indexes, so ingest writes no more than before.
ALTER TABLE alerts
    ADD COLUMN source       text   NOT NULL DEFAULT 'flow' CHECK (source IN ('flow', 'chain')),
    ADD COLUMN chain_id     bigint CHECK (chain_id >= 0),
    ADD COLUMN block_number bigint CHECK (block_number >= 0),
    ADD COLUMN block_hash   bytea  CHECK (length(block_hash) = 32),
    ADD COLUMN tx_hash      bytea  CHECK (length(tx_hash) = 32),
    ADD COLUMN account      bytea  CHECK (length(account) = 20),
    ADD COLUMN rule         text,
    ADD COLUMN subject      text   CHECK (subject IN ('transaction', 'account', 'block')),
    ADD COLUMN method       text   CHECK (method IN ('rule', 'model')),
    ADD CONSTRAINT alerts_chain_columns CHECK (
        (source = 'flow' AND chain_id IS NULL AND block_number IS NULL AND block_hash IS NULL AND tx_hash IS NULL
            AND account IS NULL AND rule IS NULL AND subject IS NULL AND method IS NULL)
        OR (source = 'chain' AND chain_id IS NOT NULL AND block_number IS NOT NULL AND block_hash IS NOT NULL
            AND rule IS NOT NULL AND subject IS NOT NULL AND method IS NOT NULL));

-- The new filters, each in listing order. source=flow walks alerts_time.
CREATE INDEX alerts_chain         ON alerts (observed_at DESC, id DESC) WHERE source = 'chain';
CREATE INDEX alerts_chain_account ON alerts (account, observed_at DESC, id DESC) WHERE account IS NOT NULL;
CREATE INDEX alerts_chain_tx      ON alerts (tx_hash, observed_at DESC, id DESC) WHERE tx_hash IS NOT NULL;
CREATE INDEX alerts_chain_rule    ON alerts (rule, observed_at DESC, id DESC) WHERE rule IS NOT NULL;

-- The hunter's progress per chain, replaced by every commit: the last
-- blocks it processed (oldest first, numbers and hashes side by side) and
-- the rest of its state, encoded by the hunter.
CREATE TABLE chain_hunt_checkpoints (
    chain_id      bigint      PRIMARY KEY CHECK (chain_id >= 0),
    block_numbers bigint[]    NOT NULL,
    block_hashes  bytea[]     NOT NULL,
    state         bytea       NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(block_numbers) = cardinality(block_hashes))
);

-- Each account's latest aggregates, encoded by the hunter.
CREATE TABLE chain_hunt_accounts (
    chain_id   bigint      NOT NULL CHECK (chain_id >= 0),
    address    bytea       NOT NULL CHECK (length(address) = 20),
    state      bytea       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, address)
);
