package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to stderr on --help.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("idsledger "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: idsledger %s\n\n", synopsis)
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
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
// from its environment variable. A bad value, on the command line or in the
// environment, is a usage error that names the setting.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return &usageError{err.Error()}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := envName(f.Name)
		if v, ok := os.LookupEnv(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = usagef("invalid value %q for %s: %v", v, env, e)
			}
		}
	})
	return err
}
