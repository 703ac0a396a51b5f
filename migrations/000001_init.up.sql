-- Base schema: API keys, the record outbox, anchoring batches, and what the
-- service remembers about the chain it anchors on.

CREATE TABLE api_keys (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('ingest', 'analyst', 'fl-node', 'admin')),
    -- prefix is the public half of the key (shown in listings, used for lookup);
    -- secret_hash is SHA-256 of the whole key. Keys carry 256 bits of entropy,
    -- so a fast hash is the right tool: there is nothing to brute-force.
    prefix      text        NOT NULL UNIQUE,
    secret_hash bytea       NOT NULL CHECK (length(secret_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One row per anchoring transaction (a Merkle batch, or a single record in
-- per-record mode). The id is also the batch id on chain.
CREATE TABLE anchor_batches (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mode         text        NOT NULL CHECK (mode IN ('batch', 'record')),
    root         bytea       NOT NULL CHECK (length(root) = 32),
    leaf_count   integer     NOT NULL CHECK (leaf_count > 0),
    first_seq    bigint      NOT NULL,
    last_seq     bigint      NOT NULL,
    -- prepared: records assigned, no transaction sent yet (or not known to be);
    -- sent: transaction hash known; confirmed: receipt and confirmations seen.
    status       text        NOT NULL CHECK (status IN ('prepared', 'sent', 'confirmed')),
    tx_hash      bytea       CHECK (tx_hash IS NULL OR length(tx_hash) = 32),
    tx_nonce     bigint,
    block_number bigint,
    block_hash   bytea,
    block_time   timestamptz,
    gas_used     bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    confirmed_at timestamptz
);
CREATE INDEX anchor_batches_open ON anchor_batches (id) WHERE status <> 'confirmed';

-- Every auditable record: alerts, model updates, global models, audit events.
-- body holds the exact canonical (RFC 8785) bytes that were hashed; it is
-- bytea, not jsonb, because jsonb would reorder keys and change the hash.
CREATE TABLE records (
    id          uuid        PRIMARY KEY,
    seq         bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    kind        text        NOT NULL CHECK (kind IN ('alert', 'model_update', 'global_model', 'audit_event')),
    body        bytea       NOT NULL,
    leaf_hash   bytea       NOT NULL CHECK (length(leaf_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- pending: in the outbox, or in a batch whose transaction is not yet
    -- confirmed (the batch row lists its record ids; see 000002); anchored:
    -- confirmed on chain, with batch_id and leaf_index set.
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'anchored')),
    batch_id    bigint      REFERENCES anchor_batches (id),
    leaf_index  integer,
    anchored_at timestamptz,
    CHECK ((status = 'pending') = (batch_id IS NULL)),
    CHECK ((batch_id IS NULL) = (leaf_index IS NULL))
);
-- The outbox: pending records in arrival order.
CREATE INDEX records_pending ON records (seq) WHERE status = 'pending';
CREATE UNIQUE INDEX records_batch_leaf ON records (batch_id, leaf_index) WHERE batch_id IS NOT NULL;
CREATE INDEX records_kind_created ON records (kind, created_at);

-- The chain this database anchors on. One row; the service refuses to start
-- against a chain that does not match it.
CREATE TABLE chain_meta (
    singleton        boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    chain_id         numeric     NOT NULL,
    genesis_hash     bytea       NOT NULL CHECK (length(genesis_hash) = 32),
    registry_address bytea       NOT NULL CHECK (length(registry_address) = 20),
    deploy_block     bigint,
    created_at       timestamptz NOT NULL DEFAULT now()
);
