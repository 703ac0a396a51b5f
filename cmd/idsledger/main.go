// Command idsledger is the one binary of idsledger: the REST service and the
// tools around it (migrations, API keys, training, evaluation, verification,
// federated nodes, benchmarks).
//
// Each subcommand lives in its own file and registers itself with register in
// an init function, so adding one touches no other file.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of the binary.
type command struct {
	name    string
	summary string // one line, shown by `idsledger help`
	// run gets the arguments after the subcommand name. It returns a
	// *usageError for bad input (exit status 2) and any other error for a
	// failure (exit status 1).
	run func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("idsledger: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	os.Exit(runMain(os.Args[1:]))
}

// runMain runs one subcommand and returns the process exit status: 0 on
// success, 2 for bad usage or configuration, 1 for any other failure. Errors
// are printed as one line on stderr.
func runMain(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "idsledger: unknown command %q (see idsledger help)\n", args[0])
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, args[1:])
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case isUsage(err):
		fmt.Fprintf(os.Stderr, "idsledger %s: %s\n", c.name, oneLine(err))
		return 2
	default:
		fmt.Fprintf(os.Stderr, "idsledger %s: %s\n", c.name, oneLine(err))
		return 1
	}
}

func printUsage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: idsledger <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `idsledger <command> --help` for a command's flags.")
}

// oneLine keeps error output to a single line, as scripts expect.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
