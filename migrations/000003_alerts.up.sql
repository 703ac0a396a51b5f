-- Alerts: the query columns of every alert record, and the analyst workflow
-- beside it.
--
-- The hashed, immutable alert body lives in records (kind 'alert') and its
-- id is the record id. alerts repeats the fields analysts filter on so that
-- listings and reports never parse bodies; the body stays the truth that is
-- verified. There is deliberately no foreign key to records: a deleted or
-- altered records row must remain visible (as tampered or missing) instead
-- of taking its alert row with it or being blocked.
CREATE TABLE alerts (
    id            uuid             PRIMARY KEY,
    observed_at   timestamptz      NOT NULL,
    sensor        text             NOT NULL,
    src_addr      inet,
    dst_addr      inet,
    src_port      integer          CHECK (src_port BETWEEN 0 AND 65535),
    dst_port      integer          CHECK (dst_port BETWEEN 0 AND 65535),
    proto         smallint         CHECK (proto BETWEEN 0 AND 255),
    community_id  text,
    class         text             NOT NULL,
    score         double precision NOT NULL,
    severity      text             NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    model_id      text             NOT NULL,
    model_version text             NOT NULL,
    created_at    timestamptz      NOT NULL DEFAULT now()
);
-- Listing order (newest first, id breaking ties) and each filter combined
-- with it, so that a filtered page is an index range scan.
CREATE INDEX alerts_time     ON alerts (observed_at DESC, id DESC);
CREATE INDEX alerts_class    ON alerts (class, observed_at DESC, id DESC);
CREATE INDEX alerts_severity ON alerts (severity, observed_at DESC, id DESC);
CREATE INDEX alerts_sensor   ON alerts (sensor, observed_at DESC, id DESC);
CREATE INDEX alerts_model    ON alerts (model_id, observed_at DESC, id DESC);
CREATE INDEX alerts_src      ON alerts (src_addr, observed_at DESC, id DESC);
CREATE INDEX alerts_dst      ON alerts (dst_addr, observed_at DESC, id DESC);
-- Anchoring-state filter: the records still pending, by id.
CREATE INDEX records_pending_id ON records (id) WHERE status <> 'anchored';

-- Alert counts per hour and per day (grain), kept by InsertAlerts in the
-- same transaction as the alerts, so that reports read a few thousand rows
-- instead of scanning millions of alerts. bucket is the UTC hour or day of
-- observed_at. n is INCLUDEd so that reports are index-only scans.
CREATE TABLE alert_counts (
    grain    text        NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket   timestamptz NOT NULL,
    class    text        NOT NULL,
    severity text        NOT NULL,
    sensor   text        NOT NULL,
    n        bigint      NOT NULL,
    PRIMARY KEY (grain, bucket, class, severity, sensor) INCLUDE (n)
);
CREATE TABLE alert_src_counts (
    grain    text        NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket   timestamptz NOT NULL,
    src_addr inet        NOT NULL,
    n        bigint      NOT NULL,
    PRIMARY KEY (grain, bucket, src_addr) INCLUDE (n)
);

-- Analyst workflow: mutable, not hashed. Every change is also appended to
-- records as an 'audit_event', so the history is itself anchored.
CREATE TABLE alert_workflow (
    alert_id     uuid        PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    acknowledged boolean     NOT NULL DEFAULT false,
    assignee     text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text        NOT NULL
);

CREATE TABLE alert_notes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id   uuid        NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    author     text        NOT NULL,
    body       text        NOT NULL,
    event_id   uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_notes_alert ON alert_notes (alert_id, id);

-- Outgoing webhooks and their dead letters.
CREATE TABLE webhooks (
    id         uuid        PRIMARY KEY,
    url        text        NOT NULL,
    secret     text        NOT NULL,
    -- min_severity: only alerts at or above it are sent.
    min_severity text      NOT NULL DEFAULT 'low' CHECK (min_severity IN ('low', 'medium', 'high', 'critical')),
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

CREATE TABLE webhook_dead_letters (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    alert_id    uuid        NOT NULL,
    payload     bytea       NOT NULL,
    attempts    integer     NOT NULL,
    last_error  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    replayed_at timestamptz
);
CREATE INDEX webhook_dead_letters_open ON webhook_dead_letters (id) WHERE replayed_at IS NULL;
