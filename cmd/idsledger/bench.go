package main

import (
	"context"
	"fmt"
	"os"
	"sort"
)

// benchmark is one `idsledger bench <name>` measurement. Each lives in its own
// file and registers itself with registerBench in an init function.
type benchmark struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var benchmarks = map[string]benchmark{}

func registerBench(b benchmark) {
	if _, dup := benchmarks[b.name]; dup {
		panic("idsledger: benchmark registered twice: " + b.name)
	}
	benchmarks[b.name] = b
}

func init() {
	register(command{
		name:    "bench",
		summary: "measure throughput and latency (anchor, chain-hunt, detector, ingest, query, seed), or generate chain traffic (chain-traffic)",
		run:     runBench,
	})
}

func runBench(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		names := make([]string, 0, len(benchmarks))
		for n := range benchmarks {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintln(os.Stderr, "usage: idsledger bench <name> [flags]\n\nbenchmarks:")
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "  %-14s %s\n", n, benchmarks[n].summary)
		}
		if len(args) == 0 {
			return usagef("missing benchmark name")
		}
		return errHelp
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return usagef("unknown benchmark %q", args[0])
	}
	return b.run(ctx, args[1:])
}
