package storage

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/idsledger/idsledger/ingest"
)

// InsertAlerts stores alerts in one transaction: for each, its canonical
// body as a pending 'alert' record in the outbox and its query row. Either
// all are stored or none. An alert's id is its record's id and part of its
// hashed body: an alert without one gets a new UUIDv7, set in alerts so
// that the caller sees it. The ids are returned in input order. An alert
// that cannot be encoded fails the whole call with ingest.ErrInvalidAlert
// before anything is written.
func (db *DB) InsertAlerts(ctx context.Context, alerts []ingest.AlertBody) ([]uuid.UUID, error) {
	if len(alerts) == 0 {
		return nil, nil
	}
	n := len(alerts)
	ids := make([]uuid.UUID, n)
	for i := range alerts {
		if alerts[i].ID == uuid.Nil {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, fmt.Errorf("new alert id: %w", err)
			}
			alerts[i].ID = id
		}
		ids[i] = alerts[i].ID
	}
	var (
		bodies              = make([][]byte, n)
		times               = make([]time.Time, n)
		sensors             = make([]string, n)
		srcs, dsts          = make([]*string, n), make([]*string, n)
		sports, dports      = make([]*int32, n), make([]*int32, n)
		protos              = make([]*int16, n)
		cids                = make([]*string, n)
		classes, sevs       = make([]string, n), make([]string, n)
		scores, risks       = make([]float64, n), make([]float64, n)
		modelIDs, modelVers = make([]string, n), make([]string, n)
	)
	for i := range alerts {
		b := alerts[i].Normalized()
		canon, err := ingest.Canonical(b) // QueueRecords hashes it
		if err != nil {
			return nil, fmt.Errorf("alert %d: %w", i, err)
		}
		bodies[i] = canon
		times[i], sensors[i] = b.ObservedAt, b.Sensor
		srcs[i], dsts[i] = addrText(b.Flow.SrcAddr), addrText(b.Flow.DstAddr)
		if b.Flow.SrcAddr.IsValid() || b.Flow.SrcPort != 0 {
			p := int32(b.Flow.SrcPort)
			sports[i] = &p
		}
		if b.Flow.DstAddr.IsValid() || b.Flow.DstPort != 0 {
			p := int32(b.Flow.DstPort)
			dports[i] = &p
		}
		if b.Flow.Proto != 0 {
			p := int16(b.Flow.Proto)
			protos[i] = &p
		}
		if b.CommunityID != "" {
			c := b.CommunityID
			cids[i] = &c
		}
		classes[i], sevs[i], scores[i], risks[i] = b.Class, string(b.Severity), b.Score, b.Risk
		modelIDs[i], modelVers[i] = b.Model.ID, b.Model.Version
	}
	// One batch, so one round trip: PostgreSQL runs it as one implicit
	// transaction (all or nothing), and holds the rollup rows it locks only
	// for as long as it runs. The records keep request order in seq; the
	// alert rows take the record ids.
	batch := &pgx.Batch{}
	if _, err := QueueRecords(batch, "alert", ids, bodies); err != nil {
		return nil, err
	}
	batch.Queue(`
		INSERT INTO alerts (id, observed_at, sensor, src_addr, dst_addr, src_port, dst_port, proto,
		                    community_id, class, score, severity, model_id, model_version, risk)
		SELECT u.id, u.t, u.sensor, u.src::inet, u.dst::inet, u.sport, u.dport, u.proto,
		       u.cid, u.class, u.score, u.sev, u.mid, u.mver, u.risk
		FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int4[], $7::int4[],
		            $8::int2[], $9::text[], $10::text[], $11::float8[], $12::text[], $13::text[], $14::text[], $15::float8[])
		     AS u(id, t, sensor, src, dst, sport, dport, proto, cid, class, score, sev, mid, mver, risk)`,
		ids, times, sensors, srcs, dsts, sports, dports, protos, cids, classes, scores, sevs, modelIDs, modelVers, risks)
	queueCounts(batch, alerts)
	if err := db.Pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, classify(err)
	}
	return ids, nil
}

// rollupShards is how many rows each rollup key is spread over (migration
// 000004): a transaction adds to one of them, picked at random, so that
// concurrent ingest transactions seldom wait on each other's row locks.
const rollupShards = 16

// queueCounts queues the upserts that add alerts to the hourly and daily
// report counts, all in one randomly picked shard. Keys are upserted in
// sorted order, so concurrent inserts that meet in a shard lock its rows in
// the same order and cannot deadlock; the rows stay locked only until the
// batch's transaction commits.
func queueCounts(b *pgx.Batch, alerts []ingest.AlertBody) {
	shard := int16(rand.IntN(rollupShards))
	type key struct {
		grain                   string
		bucket                  time.Time
		class, severity, sensor string
	}
	type srcKey struct {
		grain  string
		bucket time.Time
		src    netip.Addr
	}
	counts := map[key]int64{}
	srcs := map[srcKey]int64{}
	for _, b := range alerts {
		t := b.ObservedAt.UTC()
		for _, g := range [2]struct {
			name string
			unit time.Duration
		}{{"hour", time.Hour}, {"day", 24 * time.Hour}} {
			bucket := t.Truncate(g.unit)
			counts[key{g.name, bucket, b.Class, string(b.Severity), b.Sensor}]++
			if b.Flow.SrcAddr.IsValid() {
				srcs[srcKey{g.name, bucket, b.Flow.SrcAddr}]++
			}
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), a.bucket.Compare(b.bucket), cmp.Compare(a.class, b.class),
			cmp.Compare(a.severity, b.severity), cmp.Compare(a.sensor, b.sensor))
	})
	n := len(keys)
	grains, buckets, ns := make([]string, n), make([]time.Time, n), make([]int64, n)
	classes, sevs, sensors := make([]string, n), make([]string, n), make([]string, n)
	for i, k := range keys {
		grains[i], buckets[i], classes[i], sevs[i], sensors[i], ns[i] = k.grain, k.bucket, k.class, k.severity, k.sensor, counts[k]
	}
	b.Queue(`
		INSERT INTO alert_counts (grain, bucket, class, severity, sensor, shard, n)
		SELECT g, b, c, s, sn, $7, n
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::int8[]) AS u(g, b, c, s, sn, n)
		ON CONFLICT (grain, bucket, class, severity, sensor, shard) DO UPDATE SET n = alert_counts.n + excluded.n`,
		grains, buckets, classes, sevs, sensors, ns, shard)
	skeys := make([]srcKey, 0, len(srcs))
	for k := range srcs {
		skeys = append(skeys, k)
	}
	slices.SortFunc(skeys, func(a, b srcKey) int {
		return cmp.Or(cmp.Compare(a.grain, b.grain), a.bucket.Compare(b.bucket), a.src.Compare(b.src))
	})
	m := len(skeys)
	sg, sb, sa, sn := make([]string, m), make([]time.Time, m), make([]string, m), make([]int64, m)
	for i, k := range skeys {
		sg[i], sb[i], sa[i], sn[i] = k.grain, k.bucket, k.src.String(), srcs[k]
	}
	b.Queue(`
		INSERT INTO alert_src_counts (grain, bucket, src_addr, shard, n)
		SELECT g, b, a::inet, $5, n FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::int8[]) AS u(g, b, a, n)
		ON CONFLICT (grain, bucket, src_addr, shard) DO UPDATE SET n = alert_src_counts.n + excluded.n`, sg, sb, sa, sn, shard)
}

func addrText(a netip.Addr) *string {
	if !a.IsValid() {
		return nil
	}
	s := a.String()
	return &s
}

// DB is where ingest stores alerts.
var _ ingest.Store = (*DB)(nil)
