//go:build integration

package contracts_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"

	"github.com/idsledger/idsledger/bindings"
	"github.com/idsledger/idsledger/internal/testenv"
)

// TestBuildOutputsUpToDate recompiles contracts/*.sol with the pinned
// solc-js (scripts/contracts.sh, the `make contracts` step) into a temporary
// directory and requires contracts/build to hold exactly the same bytes.
// Set IDSLEDGER_SOLC_DIR to use a solc-js installed elsewhere.
func TestBuildOutputsUpToDate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "contracts.sh"), dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		testenv.SkipOrFail(t, "solc-js unavailable: "+strings.TrimSpace(string(out)))
	case err != nil:
		t.Fatalf("scripts/contracts.sh: %v\n%s", err, out)
	}
	compareDirs(t, dir, "build", "run `make contracts` and commit contracts/build")
}

// TestBindingsUpToDate regenerates bindings/ with abigen from go.mod's
// go-ethereum (scripts/bindings.sh, the `make bindings` step) and requires the
// committed bindings to be byte-identical.
func TestBindingsUpToDate(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "bindings.sh"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/bindings.sh: %v\n%s", err, out)
	}
	compareDirs(t, dir, filepath.Join("..", "bindings"), "run `make bindings` and commit bindings/")
}

// builtContracts are the bindings of every contract in contracts/build.
var builtContracts = map[string]*bind.MetaData{
	"AuditRegistry":      &bindings.AuditRegistryMetaData,
	"FederationRegistry": &bindings.FederationRegistryMetaData,
	"TestToken":          &bindings.TestTokenMetaData,
}

// TestBindingsEmbedBuild checks, without any tool, that the ABI and bytecode
// inside the bindings are the ones in contracts/build, for every contract
// built there.
func TestBindingsEmbedBuild(t *testing.T) {
	abis, err := filepath.Glob(filepath.Join("build", "*.abi"))
	if err != nil {
		t.Fatal(err)
	}
	if len(abis) != len(builtContracts) {
		t.Errorf("contracts/build holds %d ABIs, this test knows %d contracts: add the new one to builtContracts", len(abis), len(builtContracts))
	}
	for name, meta := range builtContracts {
		rawABI, err := os.ReadFile(filepath.Join("build", name+".abi"))
		if err != nil {
			t.Fatal(err)
		}
		// abigen embeds the ABI with every white-space character removed.
		stripped := strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, string(rawABI))
		if stripped != meta.ABI {
			t.Errorf("bindings ABI differs from contracts/build/%s.abi: run `make bindings`", name)
		}
		bin, err := os.ReadFile(filepath.Join("build", name+".bin"))
		if err != nil {
			t.Fatal(err)
		}
		if "0x"+string(bin) != meta.Bin {
			t.Errorf("bindings bytecode differs from contracts/build/%s.bin: run `make bindings`", name)
		}
	}
}

// compareDirs requires every file of fresh to exist in committed with the
// same bytes, and committed to hold no generated file that fresh lacks.
func compareDirs(t *testing.T, fresh, committed, fix string) {
	t.Helper()
	entries, err := os.ReadDir(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("nothing generated in %s", fresh)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
		want, err := os.ReadFile(filepath.Join(fresh, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committed, e.Name()))
		if err != nil {
			t.Errorf("%s: %v; %s", e.Name(), err, fix)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with the Solidity source; %s", filepath.Join(committed, e.Name()), fix)
		}
	}
	others, err := os.ReadDir(committed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range others {
		if !names[e.Name()] && !strings.HasSuffix(e.Name(), "_test.go") {
			t.Errorf("%s is not generated any more; delete it or %s", filepath.Join(committed, e.Name()), fix)
		}
	}
}
