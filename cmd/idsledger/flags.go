package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// errHelp is returned when the user asked for --help; it exits 0.
var errHelp = flag.ErrHelp

// usageError is bad input from the user: an unknown flag, an invalid value,
// a missing argument. It exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func isUsage(err error) bool {
	var u *usageError
	return errors.As(err, &u)
}

// synopses holds each flag set's one-line usage, printed by --help.
var synopses = map[*flag.FlagSet]string{}

// newFlagSet returns a flag set that reports errors instead of exiting. Its
// usage is printed only on --help: a bad flag gets a one-line error.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("idsledger "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	synopses[fs] = synopsis
	return fs
}

func printHelp(fs *flag.FlagSet) {
	fmt.Fprintf(os.Stderr, "usage: idsledger %s\n\nflags (those naming an environment variable in brackets also read it):\n", synopses[fs])
	fs.SetOutput(os.Stderr)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// envName is the environment variable that sets a flag when the flag is not
// given on the command line: IDSLEDGER_ + the flag name in upper case with
// dashes as underscores. A few names follow the conventions of the wider
// ecosystem instead.
func envName(flagName string) string {
	switch flagName {
	case "database-url":
		return "DATABASE_URL"
	}
	return "IDSLEDGER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args, then fills every flag not given on the command line
// whose usage names its environment variable in brackets ("(DATABASE_URL)")
// from that variable; other flags are never read from the environment, so
// that serve's settings (IDSLEDGER_MODEL, IDSLEDGER_REGISTRY...) do not leak
// into other commands' same-named flags. A bad value, on the command line or in the
// environment, is a usage error that names the setting. Flags may come before
// or after positional arguments (`apikey revoke ID --database-url U`); after
// it returns, fs.Args() holds the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(fs)
				return errHelp
			}
			return &usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		rest := fs.Args()
		if rest[0] == "--" || len(args) > 0 && len(rest) == len(args) && args[0] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	_ = fs.Parse(append([]string{"--"}, positional...))
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := envName(f.Name)
		if !strings.Contains(f.Usage, "("+env+")") {
			return
		}
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("invalid value %q for %s: %v", v, env, e)
			}
		}
	})
	return err
}

// parseAction parses `<action> [flags]`, as apikey and migrate take them: the
// first argument names what to do (one of actions), the rest are flags.
// --help alone prints the usage.
func parseAction(fs *flag.FlagSet, args []string, actions ...string) (string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		printHelp(fs)
		if len(args) == 0 {
			return "", usagef("missing action: %s", strings.Join(actions, ", "))
		}
		return "", errHelp
	}
	if !slices.Contains(actions, args[0]) {
		return "", usagef("unknown action %q: want %s", args[0], strings.Join(actions, ", "))
	}
	return args[0], parseFlags(fs, args[1:])
}
