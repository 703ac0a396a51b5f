// Package pgtest gives tests real PostgreSQL databases.
//
// The cluster is TEST_DATABASE_URL when set (a URL whose user may create
// databases); otherwise the private cluster under <repo>/.data/test-postgres,
// started by scripts/pgdev.sh on first use and shared by every test process
// of the run (`make test` starts it once and stops it at the end). Each test
// gets its own freshly created database, dropped when the test ends, so tests
// never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/internal/testenv"
	"github.com/idsledger/idsledger/storage"
)

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
)

// AdminURL returns the URL of the run's cluster, starting it if needed.
func AdminURL(t testing.TB) string {
	t.Helper()
	adminOnce.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		root, err := RepoRoot()
		if err != nil {
			adminErr = err
			return
		}
		adminURL, adminErr = runPGDev(root, "start", filepath.Join(root, ".data", "test-postgres"), "--fast")
	})
	if adminErr != nil {
		t.Fatalf("pgtest: no PostgreSQL for tests: %v", adminErr)
	}
	return adminURL
}

// EmptyURL creates a fresh, empty database (no migrations) for this test and
// returns its URL. The database is dropped when the test ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	name := dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", storage.Redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// URL creates a fresh database with every migration applied and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	u := EmptyURL(t)
	if err := storage.MigrateUp(u); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return u
}

// WebhookKey is the key that DB's databases seal webhook secrets with, a
// new one for every test process.
var WebhookKey = func() *storage.SecretKey {
	k, err := storage.ParseSecretKey(storage.GenerateSecretKey())
	if err != nil {
		panic(err)
	}
	return k
}()

// DB returns a storage.DB on a fresh migrated database, with WebhookKey,
// closed when the test ends.
func DB(t testing.TB) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), URL(t), storage.Options{WebhookKey: WebhookKey})
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// Pool is DB(t).Pool.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return DB(t).Pool
}

// Cluster is a PostgreSQL cluster of the test's own, for tests that stop and
// restart the database under a running service.
type Cluster struct {
	Dir string
	URL string // the cluster's idsledger database
}

// StartCluster starts a new private cluster in a temporary folder under the
// repository's .data/ and stops it when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(root, ".data", "tmp")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, "cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Dir: dir}
	t.Cleanup(func() {
		_, _ = runPGDev(root, "stop", dir)
		_ = os.RemoveAll(dir)
	})
	c.Start(t)
	return c
}

// Start starts the cluster (again); its URL stays the same when its port is free.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	root, _ := RepoRoot()
	u, err := runPGDev(root, "start", c.Dir, "--fast")
	if err != nil {
		t.Fatalf("pgtest: start cluster: %v", err)
	}
	c.URL = u
}

// Stop stops the cluster (fast shutdown: open connections are cut).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	root, _ := RepoRoot()
	if _, err := runPGDev(root, "stop", c.Dir); err != nil {
		t.Fatalf("pgtest: stop cluster: %v", err)
	}
}

// RepoRoot finds the repository root: the nearest folder above the working
// directory whose go.mod declares this module.
func RepoRoot() (string, error) { return testenv.RepoRoot() }

func runPGDev(root string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(root, "scripts", "pgdev.sh"), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/pgdev.sh %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// dbName makes a unique, valid database name that still says which test made it.
func dbName(testName string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := unsafeChars.ReplaceAllString(strings.ToLower(testName), "_")
	if len(n) > 40 {
		n = n[:40]
	}
	return "t_" + n + "_" + hex.EncodeToString(b[:])
}

func withDatabase(t testing.TB, base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: bad url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
