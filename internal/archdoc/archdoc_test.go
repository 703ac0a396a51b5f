package archdoc

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/idsledger/idsledger/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite docs/architecture.md's generated diagram")

// docs/architecture.md draws exactly the imports `go list` reports.
func TestArchitectureDocUpToDate(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	path := filepath.Join(root, "docs", "architecture.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(string(doc), Mermaid(pkgs))
	if err != nil {
		t.Fatal(err)
	}
	if want == string(doc) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("docs/architecture.md's package diagram is not what go list reports; run go test ./internal/archdoc -update")
}

// Packages that must never import certain others, as the architecture
// says: the core libraries import nothing above them.
func TestDependenciesPointOneWay(t *testing.T) {
	root, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{
		"detector":   {},
		"anchor":     {},
		"bindings":   {},
		"contracts":  {},
		"migrations": {},
		"ingest":     {"anchor", "detector"},
		"federated":  {"detector", "secretfile"},
		"secretfile": {},
		// The chain hunter scores with the detectors, decodes the registry's
		// events with its bindings, and asks the anchoring side to
		// re-check; storage and HTTP stay outside it.
		"chainhunt": {"anchor", "bindings", "detector"},
		// The traffic generator drives the chain through the contract
		// bindings only; the service's packages stay out of it.
		"chaintraffic": {"bindings"},
		"webhook":      {"anchor", "ingest", "migrations", "storage"},
	}
	for _, p := range pkgs {
		ok, checked := allowed[p.Path]
		if !checked {
			continue
		}
		for _, imp := range p.Imports {
			if !contains(ok, imp) {
				t.Errorf("%s imports %s, which the architecture does not allow", p.Path, imp)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
