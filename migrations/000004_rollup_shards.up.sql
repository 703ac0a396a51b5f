-- Every ingest transaction adds its alerts to the rollup rows of the current
-- hour and day, and concurrent ones hit the same few rows (same hour, class,
-- severity, sensor): each then waited on the other's row lock until it had
-- committed, fsync included, which serialized ingest and made its latency
-- tail. Each key is now spread over shards: a transaction picks one shard
-- for all its rows, so concurrent ones rarely meet, and reports sum over the
-- shards. Existing counts become shard 0.
ALTER TABLE alert_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE alert_counts DROP CONSTRAINT alert_counts_pkey;
ALTER TABLE alert_counts ADD PRIMARY KEY (grain, bucket, class, severity, sensor, shard) INCLUDE (n);
ALTER TABLE alert_counts ALTER COLUMN shard DROP DEFAULT;

ALTER TABLE alert_src_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE alert_src_counts DROP CONSTRAINT alert_src_counts_pkey;
ALTER TABLE alert_src_counts ADD PRIMARY KEY (grain, bucket, src_addr, shard) INCLUDE (n);
ALTER TABLE alert_src_counts ALTER COLUMN shard DROP DEFAULT;
