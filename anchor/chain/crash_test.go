package chain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/internal/fakes"
)

// envCrashChild, set to a data directory, makes the test binary the child
// of TestEmbeddedKeepsAnchorsAcrossACrash.
const envCrashChild = "IDSLEDGER_CHAIN_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(envCrashChild); dir != "" {
		crashChild(dir)
	}
	os.Exit(m.Run())
}

// crashChild opens the embedded chain in dir (deploying the registry),
// anchors one batch, prints the registry's address once the batch is
// included, and dies at once by SIGKILL: a crash right after the worker
// would have recorded the batch as confirmed.
func crashChild(dir string) {
	ctx := context.Background()
	c, err := Open(ctx, Config{DataDir: dir}, &fakes.ChainMeta{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sent, err := c.Registry.AnchorBatch(ctx, 1, anchor.Hash{1}, 4, 1)
	if err == nil {
		_, err = c.Registry.WaitIncluded(ctx, sent.Tx, 1, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(common.Address(c.Registry.Address()).Hex())
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// What the embedded chain reported mined survives a crash of the process:
// the worker records a batch as anchored once WaitIncluded returns, so the
// chain must hold it after a restart, and the registry with it.
func TestEmbeddedKeepsAnchorsAcrossACrash(t *testing.T) {
	for round := range 3 {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child: %v %s", round, err, out)
		}
		addr := common.HexToAddress(strings.TrimSpace(string(out)))
		emb, err := StartEmbedded(EmbeddedConfig{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := NewReader(ctxT(t), emb.Client(), addr)
		if err != nil {
			emb.Close()
			t.Fatalf("round %d: after the crash: %v", round, err)
		}
		b, ok, err := reg.Batch(ctxT(t), 1)
		emb.Close()
		if err != nil || !ok || b.Root != (anchor.Hash{1}) {
			t.Fatalf("round %d: batch 1 was included before the crash; after it the registry holds %+v %v %v", round, b, ok, err)
		}
	}
}
