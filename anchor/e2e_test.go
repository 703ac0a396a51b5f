//go:build integration

package anchor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/gethtest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/storage/pgtest"
)

// Environment of the worker child process of TestGethDev.
const (
	envChild     = "IDSLEDGER_E2E_WORKER"       // "1" in the child
	envRPC       = "IDSLEDGER_E2E_RPC"          // geth endpoint
	envKeyFile   = "IDSLEDGER_E2E_KEY_FILE"     // service key
	envPauseFile = "IDSLEDGER_E2E_PAUSE_FILE"   // written when the child stops mid-batch
	envPauseAt   = "IDSLEDGER_E2E_PAUSE_AT"     // stop after sending this many batches
	envDB        = "IDSLEDGER_E2E_DATABASE_URL" // database
)

const (
	e2eRecords   = 20_000
	e2eBatchSize = 1_000
)

// TestGethDev runs the whole anchoring path against a real `geth --dev`:
// deploy the registry through the bindings, anchor 20,000 records with a
// worker process that is killed with SIGKILL in the middle of a batch and
// restarted, check that every record is anchored exactly once (contract
// and database), verify every record, detect an altered and a deleted row,
// then stop geth by its pid.
func TestGethDev(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	rpcURL := gethtest.Start(t, gethtest.Options{}).URL
	dbURL := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// First start: deploys the registry through the bindings and funds
	// the service key from the dev account.
	keyFile := filepath.Join(t.TempDir(), "service.key")
	c, err := chain.Open(ctx, chain.Config{RPC: rpcURL, KeyFile: keyFile, FundFromDev: true}, storage.NewChainMeta(pool))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := c.Registry
	t.Logf("registry %x on chain %d", reg.Address(), reg.ChainID())
	// geth runs on the genesis given to `geth init` (today's mainnet rules),
	// not on the one --dev would have made.
	if want := chain.GethDevGenesis().ToBlock().Hash(); c.Meta.GenesisHash != want {
		t.Fatalf("geth genesis %x, want %x (the dev genesis given to geth init)", c.Meta.GenesisHash, want)
	}

	ids := fillRecords(t, pool, e2eRecords)

	// Worker process 1 stops for good right after handing its 5th batch's
	// transaction to geth, before recording it: the most delicate moment.
	// Then it is killed with SIGKILL.
	pause := filepath.Join(t.TempDir(), "paused")
	child := startWorkerProcess(t, dbURL, rpcURL, keyFile, pause, 5)
	waitFile(t, pause, 5*time.Minute)
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	var open int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM anchor_batches WHERE status IN ('prepared', 'sent')`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	if open == 0 {
		t.Fatal("the killed worker left no batch in flight")
	}
	t.Logf("worker killed with %d batch(es) in flight", open)

	// Worker process 2 reconciles and finishes.
	child = startWorkerProcess(t, dbURL, rpcURL, keyFile, "", 0)
	if err := waitProcess(child, 10*time.Minute); err != nil {
		t.Fatalf("second worker: %v", err)
	}

	checkExactlyOnce(t, ctx, pool, reg)

	// Verify every record against the registry.
	v := anchor.NewVerifier(storage.NewOutbox(pool), reg)
	verifyIDs(t, ctx, v, ids)

	// Alter one record: verify says tampered.
	altered := ids[1234]
	if _, err := pool.Exec(ctx, `UPDATE records SET body = convert_to('{"forged":true}', 'UTF8') WHERE id = $1`, altered); err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(ctx, altered)
	if err != nil || p.Status != anchor.StatusTampered {
		t.Fatalf("altered record: %+v, %v", p, err)
	}

	// Delete one record: the batch audit names it.
	deleted := ids[4321]
	var batchID int64
	if err := pool.QueryRow(ctx, `WITH d AS (DELETE FROM records WHERE id = $1 RETURNING id) SELECT ra.batch_id FROM d JOIN record_anchors ra ON ra.record_id = d.id`, deleted).Scan(&batchID); err != nil {
		t.Fatal(err)
	}
	rep, err := v.Audit(ctx, uint64(batchID))
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Missing) != 1 || rep.Missing[0].RecordID != uuid.UUID(deleted).String() {
		t.Fatalf("audit of batch %d after a delete: %+v", batchID, rep)
	}
}

// checkExactlyOnce checks that every record is anchored, each batch once,
// and that the registry holds exactly the database's batches.
func checkExactlyOnce(t *testing.T, ctx context.Context, pool *pgxpool.Pool, reg *chain.Registry) {
	t.Helper()
	var notAnchored, batches, leaves int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_anchors ra WHERE ra.record_id = r.id)) + (SELECT count(*) FROM outbox)`).Scan(&notAnchored); err != nil {
		t.Fatal(err)
	}
	if notAnchored != 0 {
		t.Fatalf("%d records not anchored", notAnchored)
	}
	rows, err := pool.Query(ctx, `SELECT id, root, leaf_count, status FROM anchor_batches ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     int64
		root   []byte
		n      int
		status string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.root, &x.n, &x.status)
	})
	if err != nil {
		t.Fatal(err)
	}
	var maxID int64
	for _, b := range all {
		ob, ok, err := reg.Batch(ctx, uint64(b.id))
		if err != nil {
			t.Fatal(err)
		}
		if !ok || !bytes.Equal(ob.Root[:], b.root) || int(ob.LeafCount) != b.n || b.status != "confirmed" {
			t.Fatalf("batch %d: db %x/%d/%s, chain %x/%d/%v", b.id, b.root, b.n, b.status, ob.Root, ob.LeafCount, ok)
		}
		batches++
		leaves += b.n
		maxID = max(maxID, b.id)
	}
	if leaves != e2eRecords {
		t.Fatalf("batches hold %d leaves, want %d", leaves, e2eRecords)
	}
	if _, ok, _ := reg.Batch(ctx, uint64(maxID+1)); ok {
		t.Fatalf("registry holds a batch %d the database does not know", maxID+1)
	}
	// Each record is in exactly one batch at one position.
	var dup int
	if err := pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT substring(b.record_ids FROM 16*i+1 FOR 16) AS rid
			FROM anchor_batches b, generate_series(0, b.leaf_count-1) AS i
			GROUP BY 1 HAVING count(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Fatalf("%d records appear in more than one batch", dup)
	}
	t.Logf("%d records in %d batches, each anchored once", leaves, batches)
}

func verifyIDs(t *testing.T, ctx context.Context, v *anchor.Verifier, ids []anchor.RecordID) {
	t.Helper()
	const workers = 4
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += workers {
				p, err := v.Verify(ctx, ids[i])
				if err == nil && p.Status == anchor.StatusVerified {
					continue
				}
				mu.Lock()
				if err != nil {
					fails = append(fails, err.Error())
				} else {
					fails = append(fails, fmt.Sprintf("%s: %s %s", p.RecordID, p.Status, p.Reason))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("%d of %d records not verified, first: %s", len(fails), len(ids), fails[0])
	}
}

// fillRecords puts n alerts in the outbox and returns their ids in order.
func fillRecords(t *testing.T, pool *pgxpool.Pool, n int) []anchor.RecordID {
	return appendRecords(t, pool, n, func(i int) string {
		return fmt.Sprintf(`{"dst":"10.0.%d.%d","kind":"alert","label":"ddos","n":%d,"score":0.%04d}`, i%250, i%200, i, i%9999)
	})
}

// TestMain runs the worker child of TestGethDev when started as one, and the
// tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		if err := runWorkerChild(); err != nil {
			fmt.Fprintln(os.Stderr, "worker child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorkerChild anchors every pending record of the database the
// environment names on the chain it names, and returns when none is left
// (or after ten minutes, an error).
func runWorkerChild() error {
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Minute)
	defer stop()
	pool, err := pgxpool.New(ctx, os.Getenv(envDB))
	if err != nil {
		return err
	}
	defer pool.Close()
	c, err := chain.Open(ctx, chain.Config{RPC: os.Getenv(envRPC), KeyFile: os.Getenv(envKeyFile)}, storage.NewChainMeta(pool))
	if err != nil {
		return err
	}
	defer c.Close()
	var reg anchor.Registry = c.Registry
	if at, _ := strconv.Atoi(os.Getenv(envPauseAt)); at > 0 {
		reg = &pausingRegistry{Registry: reg, at: at, file: os.Getenv(envPauseFile)}
	}
	out := storage.NewOutbox(pool)
	cfg := anchor.DefaultWorkerConfig()
	cfg.MaxBatch = e2eBatchSize
	cfg.MaxWait = 50 * time.Millisecond
	cfg.RetryMin = 20 * time.Millisecond
	cfg.RetryMax = time.Second
	w, err := anchor.NewWorker(out, reg, cfg)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- w.Run(wctx) }()
	for {
		var left int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_anchors ra WHERE ra.record_id = r.id))
			+ (SELECT count(*) FROM anchor_batches WHERE status IN ('prepared', 'sent'))`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			break
		}
		select {
		case err := <-errc:
			return fmt.Errorf("worker stopped: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("%d records or batches still unanchored: %w", left, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	return <-errc
}

// pausingRegistry stops the process's anchoring for good right after the
// at-th batch transaction was handed to the node, and says so in file.
type pausingRegistry struct {
	anchor.Registry
	at   int
	file string
	mu   sync.Mutex
	n    int
}

func (p *pausingRegistry) AnchorBatch(ctx context.Context, id uint64, root anchor.Hash, n uint32, kind uint8) (anchor.Sent, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, err := p.Registry.AnchorBatch(ctx, id, root, n, kind)
	if err != nil {
		return s, err
	}
	p.n++
	if p.n == p.at {
		if err := os.WriteFile(p.file, []byte(strconv.FormatUint(id, 10)), 0o600); err != nil {
			return s, err
		}
		select {} // wait for SIGKILL
	}
	return s, nil
}

func startWorkerProcess(t *testing.T, dbURL, rpcURL, keyFile, pauseFile string, pauseAt int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		envChild+"=1", envDB+"="+dbURL, envRPC+"="+rpcURL, envKeyFile+"="+keyFile,
		envPauseFile+"="+pauseFile, envPauseAt+"="+strconv.Itoa(pauseAt))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func waitProcess(cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		return errors.New("timed out")
	}
}

func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
