-- Federated learning (package federated/coordinator, stored by
-- storage.Federation) and the model that scores flows (storage.DB's
-- ActivateModel).
--
-- The coordinator's values (a round, an update, a judgement, the privacy
-- accountant) are kept as the JSON a restarted coordinator loads; the
-- columns beside them repeat what constraints and queries need. A change
-- that makes a record appends it to records and the outbox in its own
-- transaction. Like alerts, these tables have no foreign key to records: a
-- deleted or altered record row must show as such, not take rows with it.

-- New record kinds: fl_round (a round's judgement) and chain_alert (the
-- chain hunter's). NOT VALID: every existing row passed the narrower check
-- this one replaces, so there is nothing to validate, and validating would
-- scan the whole ledger under the exclusive lock ALTER TABLE holds, stopping
-- ingest for as long. New rows are checked all the same.
ALTER TABLE records DROP CONSTRAINT records_kind_check;
ALTER TABLE records ADD CONSTRAINT records_kind_check
    CHECK (kind IN ('alert', 'model_update', 'global_model', 'audit_event', 'fl_round', 'chain_alert')) NOT VALID;

-- Detector model files: uploaded, built in, or made by a round. seq is the
-- order they were stored in (Models lists newest first).
CREATE TABLE models (
    id               text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'), -- hex keccak256 of file
    seq              bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    kind             text        NOT NULL,
    file             bytea       NOT NULL,
    round            bigint      NOT NULL CHECK (round >= 0), -- 0: not made by a round
    parent           text,                                    -- the model the round started from
    -- The version in the federation registry, once planned; registered once
    -- the registry holds it.
    registry_version bigint      UNIQUE CHECK (registry_version > 0),
    registered       boolean     NOT NULL,
    updates_root     bytea       NOT NULL CHECK (length(updates_root) = 32),
    record_id        uuid,                                    -- its global_model record
    created_at       timestamptz NOT NULL,
    CHECK (registry_version IS NOT NULL OR NOT registered)
);
-- Registry versions (NextModelVersion): a sequence never hands a number out
-- twice, even to transactions that roll back.
CREATE SEQUENCE model_registry_versions AS bigint;

-- Enrolled sites, removed ones included (removed_at). seq is the enrolment
-- order. API keys are revoked, never deleted, so a site keeps its key row.
CREATE TABLE fl_sites (
    address     bytea       PRIMARY KEY CHECK (length(address) = 20),
    seq         bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    name        text        NOT NULL,
    key_id      uuid        NOT NULL UNIQUE REFERENCES api_keys (id),
    enrolled_at timestamptz NOT NULL,
    removed_at  timestamptz
);

-- Rounds: round is the federated.Round JSON; state, times and new model
-- repeat it. closed_at is when the store recorded the round's end.
CREATE TABLE fl_rounds (
    number       bigint      PRIMARY KEY CHECK (number > 0),
    state        text        NOT NULL CHECK (state IN ('open', 'closing', 'closed', 'failed')),
    round        jsonb       NOT NULL,
    opened_at    timestamptz NOT NULL,
    deadline     timestamptz NOT NULL,
    closed_at    timestamptz,
    new_model_id text        REFERENCES models (id),
    CHECK ((closed_at IS NULL) = (state IN ('open', 'closing'))),
    CHECK (new_model_id IS NULL OR state = 'closed')
);
-- One round runs at a time: at most one row is open or closing.
CREATE UNIQUE INDEX fl_rounds_current ON fl_rounds ((true)) WHERE state IN ('open', 'closing');

-- Acknowledged updates, one per site and round. body is the JSON of the
-- signed federated.Update (payload included: 100 kB and more, so bytea,
-- not jsonb); judgement the coordinator.Judgement once the round judged it.
-- seq is the order they were received in.
CREATE TABLE fl_updates (
    record_id   uuid        PRIMARY KEY, -- its model_update record
    seq         bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    round       bigint      NOT NULL REFERENCES fl_rounds (number),
    site        bytea       NOT NULL REFERENCES fl_sites (address),
    update_hash bytea       NOT NULL CHECK (length(update_hash) = 32),
    leaf        bytea       NOT NULL CHECK (length(leaf) = 32), -- the record's leaf, which the contract judged
    body        bytea       NOT NULL,
    received_at timestamptz NOT NULL,
    judgement   jsonb,
    UNIQUE (round, site),
    UNIQUE (round, update_hash)
);

-- Refused submissions, kept as they came (whatever round or site they
-- name), never anchored.
CREATE TABLE fl_rejections (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round       bigint      NOT NULL,
    site        bytea       NOT NULL CHECK (length(site) = 20),
    update_hash bytea       NOT NULL CHECK (length(update_hash) = 32),
    reason      text        NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX fl_rejections_round ON fl_rejections (round, id);

-- Each site's reputation after the last round that judged it (the
-- contract's, mirrored).
CREATE TABLE fl_reputations (
    site       bytea   PRIMARY KEY REFERENCES fl_sites (address),
    reputation integer NOT NULL CHECK (reputation BETWEEN 0 AND 65535),
    round      bigint  NOT NULL REFERENCES fl_rounds (number)
);

-- The privacy accountant (federated.Accountant JSON) after the last round.
CREATE TABLE fl_accountant (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    accountant jsonb   NOT NULL,
    round      bigint  NOT NULL REFERENCES fl_rounds (number)
);

-- The model that scores flows, as last activated (its model.activate audit
-- event is event_id), so that a restarted service serves it again.
CREATE TABLE active_model (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    model_id     text        NOT NULL REFERENCES models (id),
    version      text        NOT NULL,
    actor        text        NOT NULL,
    activated_at timestamptz NOT NULL,
    event_id     uuid        NOT NULL
);
