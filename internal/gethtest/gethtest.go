// Package gethtest runs a real `geth --dev` as a child process for tests:
// built from go.mod's go-ethereum by scripts/geth.sh (or IDSLEDGER_GETH),
// initialised with the dev genesis under today's mainnet rules
// (chain.GethDevGenesis), answering JSON-RPC over HTTP on a loopback port.
// A test can stop it and start it again on the same data directory and
// port (a node outage), and rewind its chain with debug_setHead (a reorg).
package gethtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/internal/testenv"
)

// Options configure the node.
type Options struct {
	// Period, when positive, makes geth seal a block every Period
	// (--dev.period, whole seconds) instead of as soon as a transaction
	// arrives: a transaction then waits in the pool until the next block,
	// which gives a test a window while it is sent but not mined.
	Period time.Duration
	// NoLocals turns geth's tracker of the transactions it was sent off
	// (--txpool.nolocals). The tracker sends a transaction that left the
	// pool unmined to the pool again, 10 s after start and then every
	// minute, so that a transaction a reorg dropped comes back; without it
	// the transaction is gone for good, as when no node kept it.
	NoLocals bool
}

// Geth is a `geth --dev` child process.
type Geth struct {
	// URL is the node's JSON-RPC endpoint (http://127.0.0.1:PORT); it stays
	// the same across Stop and Start.
	URL string

	bin, dir, datadir string
	port, authPort    int
	opts              Options

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	logf *os.File
}

// Binary returns IDSLEDGER_GETH, or builds geth with scripts/geth.sh.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("IDSLEDGER_GETH"); p != "" {
		return p
	}
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "geth.sh")).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("scripts/geth.sh: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("scripts/geth.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// Start initialises a data directory with the dev genesis, starts
// `geth --dev` on it with the eth, net, web3 and debug APIs on a free
// loopback port, and waits until it answers. The node is stopped by its
// pid when the test ends, and its log tail printed if the test failed.
func Start(t testing.TB, opts Options) *Geth {
	t.Helper()
	g := &Geth{bin: Binary(t), dir: t.TempDir(), opts: opts}
	gj, err := json.Marshal(chain.GethDevGenesis())
	if err != nil {
		t.Fatal(err)
	}
	gpath := filepath.Join(g.dir, "genesis.json")
	if err := os.WriteFile(gpath, gj, 0o600); err != nil {
		t.Fatal(err)
	}
	g.datadir = filepath.Join(g.dir, "data")
	if out, err := exec.Command(g.bin, "init", "--datadir", g.datadir, gpath).CombinedOutput(); err != nil {
		t.Fatalf("geth init: %v\n%s", err, out)
	}
	g.port, g.authPort = freePort(t), freePort(t)
	g.URL = fmt.Sprintf("http://127.0.0.1:%d", g.port)
	if g.logf, err = os.Create(filepath.Join(g.dir, "geth.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.stop(30 * time.Second)
		g.logf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(g.logf.Name()); err == nil {
				t.Logf("geth log (tail):\n%s", b[max(0, len(b)-4000):])
			}
		}
	})
	g.Start(t)
	return g
}

// Start starts the node (again) on its data directory and port, and waits
// until it answers.
func (g *Geth) Start(t testing.TB) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		t.Fatal("gethtest: Start while geth is running")
	}
	args := []string{"--dev", "--datadir", g.datadir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(g.port), "--http.api", "eth,net,web3,debug",
		"--authrpc.addr", "127.0.0.1", "--authrpc.port", strconv.Itoa(g.authPort),
		"--ipcdisable", "--nodiscover", "--maxpeers", "0", "--port", "0", "--verbosity", "2"}
	if g.opts.NoLocals {
		args = append(args, "--txpool.nolocals")
	}
	if g.opts.Period > 0 {
		args = append(args, "--dev.period", strconv.Itoa(max(1, int(g.opts.Period/time.Second))))
	}
	cmd := exec.Command(g.bin, args...)
	cmd.Stdout, cmd.Stderr = g.logf, g.logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	g.cmd, g.done = cmd, done

	deadline := time.Now().Add(time.Minute)
	for {
		err := g.ping()
		if err == nil {
			return
		}
		select {
		case <-done:
			t.Fatalf("geth --dev exited at start: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("geth --dev did not answer on %s within a minute: %v", g.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (g *Geth) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := ethclient.DialContext(ctx, g.URL)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.ChainID(ctx)
	return err
}

// Stop stops the node with SIGTERM (geth writes its state out and exits),
// and waits for it: the JSON-RPC port refuses connections afterwards.
func (g *Geth) Stop(t testing.TB) {
	t.Helper()
	if err := g.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func (g *Geth) stop(grace time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return nil
	}
	pid := g.cmd.Process.Pid
	defer func() { g.cmd, g.done = nil, nil }()
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-g.done:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-g.done
		return fmt.Errorf("geth did not stop within %s of SIGTERM", grace)
	}
}

// SetHead rewinds the node's chain to block n with debug_setHead, as a
// reorg to a shorter chain would: the blocks above n are gone, and so are
// the transactions only they held (geth does not return them to its pool
// after a setHead).
func (g *Geth) SetHead(t testing.TB, n uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rpc.DialContext(ctx, g.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.CallContext(ctx, nil, "debug_setHead", "0x"+strconv.FormatUint(n, 16)); err != nil {
		t.Fatalf("debug_setHead(%d): %v", n, err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
