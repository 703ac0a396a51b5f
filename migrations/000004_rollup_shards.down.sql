-- Fold the shards back into one row per key.
CREATE TEMP TABLE folded_counts AS
    SELECT grain, bucket, class, severity, sensor, sum(n)::bigint AS n
    FROM alert_counts GROUP BY grain, bucket, class, severity, sensor;
TRUNCATE alert_counts;
ALTER TABLE alert_counts DROP CONSTRAINT alert_counts_pkey;
ALTER TABLE alert_counts DROP COLUMN shard;
INSERT INTO alert_counts (grain, bucket, class, severity, sensor, n)
    SELECT grain, bucket, class, severity, sensor, n FROM folded_counts;
ALTER TABLE alert_counts ADD PRIMARY KEY (grain, bucket, class, severity, sensor) INCLUDE (n);
DROP TABLE folded_counts;

CREATE TEMP TABLE folded_src_counts AS
    SELECT grain, bucket, src_addr, sum(n)::bigint AS n
    FROM alert_src_counts GROUP BY grain, bucket, src_addr;
TRUNCATE alert_src_counts;
ALTER TABLE alert_src_counts DROP CONSTRAINT alert_src_counts_pkey;
ALTER TABLE alert_src_counts DROP COLUMN shard;
INSERT INTO alert_src_counts (grain, bucket, src_addr, n)
    SELECT grain, bucket, src_addr, n FROM folded_src_counts;
ALTER TABLE alert_src_counts ADD PRIMARY KEY (grain, bucket, src_addr) INCLUDE (n);
DROP TABLE folded_src_counts;
