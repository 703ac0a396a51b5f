package chain

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/contracts"
	"github.com/idsledger/idsledger/internal/fakes"
)

// envCrashChild, set to "anchor:DIR" or "create:DIR", makes the test
// binary a child that works on the embedded chain in DIR and then crashes
// (crashChild).
const envCrashChild = "IDSLEDGER_CHAIN_CRASH_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(envCrashChild); v != "" {
		mode, dir, _ := strings.Cut(v, ":")
		crashChild(mode, dir)
	}
	os.Exit(m.Run())
}

// crashChild dies by SIGKILL, as a crash would, right after it has
// created the embedded chain in dir (mode create), or right after it has
// opened it (deploying the registry), anchored one batch and printed the
// registry's address once the batch was included (mode anchor): the moment
// the worker records the batch as confirmed.
func crashChild(mode, dir string) {
	ctx := context.Background()
	if mode == "create" {
		if _, err := StartEmbedded(EmbeddedConfig{DataDir: dir}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
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
		addr := common.HexToAddress(crash(t, "anchor", dir))
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

// crash runs crashChild in mode on dir and returns what it printed.
func crash(t *testing.T, mode, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashChild+"="+mode+":"+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("crash child %s: %v %s", mode, err, out)
	}
	return strings.TrimSpace(string(out))
}

// A crash during the first start leaves a chain folder behind: one whose
// creation completed (the process died right after), or one cut short
// before the genesis block reached the disk (here, a chain database that
// is empty). Either way the next start runs the dev chain, not
// go-ethereum's default for a folder without a genesis, main net, which
// `serve` would refuse for good.
func TestEmbeddedStartsAfterACrashAtCreation(t *testing.T) {
	created := t.TempDir()
	crash(t, "create", created)
	cut := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cut, "geth", "chaindata"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{"created": created, "cut short": cut} {
		emb, err := StartEmbedded(EmbeddedConfig{DataDir: dir})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id, err := emb.Client().ChainID(ctxT(t))
		emb.Close()
		if err != nil || id.Cmp(contracts.OsakaDevChainConfig().ChainID) != 0 {
			t.Fatalf("%s: chain %v %v, want the dev chain", name, id, err)
		}
	}
}
