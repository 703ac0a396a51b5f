// Command vulnfilter reads govulncheck's JSON stream on stdin and fails
// when the module's code calls a vulnerable function of a dependency: that
// is ours to fix, by upgrading the dependency. A vulnerability of the
// standard library is the Go toolchain's: it is reported, with the Go
// version that fixes it, but does not fail the check, since the toolchain
// is the machine's (README: Go version).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/mod/semver"
)

type finding struct {
	OSV          string `json:"osv"`
	FixedVersion string `json:"fixed_version"`
	Trace        []struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
	} `json:"trace"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	deps := map[string]string{}   // osv -> module@version (fixed)
	stdlib := map[string]string{} // osv -> fixed version
	for {
		var msg struct {
			Finding *finding `json:"finding"`
		}
		err := dec.Decode(&msg)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulnfilter: reading govulncheck's output:", err)
			os.Exit(2)
		}
		f := msg.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // not called by this module's code
		}
		t := f.Trace[0]
		if t.Module == "stdlib" {
			stdlib[f.OSV] = f.FixedVersion
			continue
		}
		deps[f.OSV] = fmt.Sprintf("%s@%s (fixed in %s)", t.Module, t.Version, f.FixedVersion)
	}
	if len(stdlib) > 0 {
		ids := keys(stdlib)
		need := ""
		for _, v := range stdlib {
			if need == "" || semver.Compare(v, need) > 0 {
				need = v
			}
		}
		fmt.Fprintf(os.Stderr, "vulncheck: the Go toolchain has %d vulnerabilities this code reaches (%v); upgrade Go to %s or later\n",
			len(ids), ids, need)
	}
	if len(deps) > 0 {
		for _, id := range keys(deps) {
			fmt.Fprintf(os.Stderr, "vulncheck: %s in %s is called by this module: upgrade it\n", id, deps[id])
		}
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "vulncheck: no vulnerable dependency is called")
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
