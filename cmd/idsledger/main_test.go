package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/idsledger/idsledger/anchor"
)

// capture runs f with stdout and stderr redirected and returns what it printed.
func capture(t *testing.T, f func()) (stdout, stderr string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	ro, wo, _ := os.Pipe()
	re, we, _ := os.Pipe()
	os.Stdout, os.Stderr = wo, we
	outC, errC := make(chan string), make(chan string)
	go func() { b, _ := io.ReadAll(ro); outC <- string(b) }()
	go func() { b, _ := io.ReadAll(re); errC <- string(b) }()
	defer func() { os.Stdout, os.Stderr = oldOut, oldErr }()
	f()
	wo.Close()
	we.Close()
	return <-outC, <-errC
}

func TestBadConfigurationExits2WithOneLine(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve", "--addr", "nonsense", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--addr"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_ADDR": "nonsense"}, "IDSLEDGER_ADDR"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_READ_TIMEOUT": "soon"}, "IDSLEDGER_READ_TIMEOUT"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--max-body-bytes", "0"}, nil, "--max-body-bytes"},
		{[]string{"serve", "--database-url", "mysql://x"}, nil, "DATABASE_URL"},
		{[]string{"serve"}, map[string]string{"DATABASE_URL": ""}, "DATABASE_URL"},
		{[]string{"serve", "--no-such-flag"}, nil, "no-such-flag"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--log-level", "loud"}, nil, "--log-level"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--anchor-mode", "sideways"}, nil, "--anchor-mode"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_REGISTRY": "0x12"}, "IDSLEDGER_REGISTRY"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--batch-size", "0"}, nil, "--batch-size"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--debug-addr", "0.0.0.0:6060"}, nil, "--debug-addr"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_DEBUG_ADDR": "example.com:6060"}, "IDSLEDGER_DEBUG_ADDR"},
		{[]string{"bench", "ingest", "--url", "http://127.0.0.1:1", "--key", "k", "--duration", "0"}, nil, "--latency-rate"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_BATCH_INTERVAL": "-1s"}, "IDSLEDGER_BATCH_INTERVAL"},
		{[]string{"apikey", "create", "--role", "root", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--role"},
		{[]string{"apikey", "frobnicate", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "frobnicate"},
		{[]string{"apikey", "create", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--role is required"},
		{[]string{"train", "--dataset", "nf-bot", "--data", "x.csv", "--model", "bilstm", "--out", "x.idslm"}, nil, `--dataset: unknown dataset "nf-bot"`},
		{[]string{"train", "--dataset", "csv", "--data", "x.csv", "--model", "bilstm", "--out", "x.idslm"}, nil, "--label-column"},
		{[]string{"apikey", "create", "--role", "analyst", "--sensor", "plant-1", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "--sensor"},
		{[]string{"migrate", "sideways", "--database-url", "postgres://x@127.0.0.1/x"}, nil, "sideways"},
		{[]string{"nosuchcommand"}, nil, "nosuchcommand"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--addr", "0.0.0.0:8080"}, nil, "--insecure-http"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--tls-cert", "c.pem"}, nil, "--tls-key"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--trusted-proxies", "10.0.0.0/33"}, nil, "--trusted-proxies"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--eth-rpc", "http://127.0.0.1:1"}, nil, "--eth-key-file"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_ETH_KEY": "0xnothex"}, "IDSLEDGER_ETH_KEY"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--chain-http", "0.0.0.0:8545"}, nil, "--chain-http"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--rate-per-key", "-5"}, nil, "--rate-per-key"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_MAX_STREAMS": "0"}, "IDSLEDGER_MAX_STREAMS"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--max-ingest", "0"}, nil, "--max-ingest"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--webhook-allow", "10.0.0.0/33"}, nil, "--webhook-allow"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_WEBHOOK_KEY": "abcd"}, "IDSLEDGER_WEBHOOK_KEY"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x"}, map[string]string{"IDSLEDGER_WEBHOOK_ALLOW": "intranet"}, "IDSLEDGER_WEBHOOK_ALLOW"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--recheck-interval", "-1s"}, nil, "--recheck-interval"},
		{[]string{"serve", "--database-url", "postgres://x@127.0.0.1/x", "--tx-replace-after", "0s"}, nil, "--tx-replace-after"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var code int
			_, stderr := capture(t, func() { code = runMain(c.args) })
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr %q: want one line naming %s", stderr, c.want)
			}
		})
	}
}

// Only flags whose usage names an environment variable read it: serve's
// IDSLEDGER_MODEL (its model file) must not become train's --model (a model
// kind), nor IDSLEDGER_REGISTRY verify's --registry.
func TestEnvironmentReachesOnlyTheFlagsThatNameIt(t *testing.T) {
	t.Setenv("IDSLEDGER_MODEL", "/srv/idsledger/model.idslm")
	t.Setenv("IDSLEDGER_EPOCHS", "not a number")
	fs := newFlagSet("train", "train")
	model := fs.String("model", "bilstm", "model kind")
	epochs := fs.Int("epochs", 3, "epochs")
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if *model != "bilstm" || *epochs != 3 {
		t.Fatalf("the environment set --model %q --epochs %d", *model, *epochs)
	}
	fs = newFlagSet("serve", "serve")
	model = fs.String("model", "", "model file (IDSLEDGER_MODEL)")
	if err := parseFlags(fs, nil); err != nil || *model != "/srv/idsledger/model.idslm" {
		t.Fatalf("serve's --model from IDSLEDGER_MODEL: %q %v", *model, err)
	}
}

// --webhook-allow (or IDSLEDGER_WEBHOOK_ALLOW) reaches the dispatcher's
// allow-list; by default it is empty.
func TestServeWebhookAllowList(t *testing.T) {
	c, err := parseServe([]string{"--database-url", "postgres://x@127.0.0.1/x"})
	if err != nil || len(c.webhookAllow) != 0 {
		t.Fatalf("default: %v %v", c.webhookAllow, err)
	}
	t.Setenv("IDSLEDGER_WEBHOOK_ALLOW", "10.1.0.0/16, 192.168.7.7")
	c, err = parseServe([]string{"--database-url", "postgres://x@127.0.0.1/x"})
	if err != nil || fmt.Sprint(c.webhookAllow) != "[10.1.0.0/16 192.168.7.7/32]" {
		t.Fatalf("from the environment: %v %v", c.webhookAllow, err)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	for name := range commands {
		var code int
		_, stderr := capture(t, func() { code = runMain([]string{name, "--help"}) })
		if code != 0 || !strings.Contains(stderr, "usage: idsledger") {
			t.Errorf("%s --help: exit %d, stderr %q", name, code, stderr)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6060": true, "localhost:6060": true, "[::1]:6060": true, "127.0.0.2:1": true,
		"0.0.0.0:6060": false, ":6060": false, "10.0.0.1:6060": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// Every serve flag has its row in README's configuration table, so the
// README stays the operator's whole reference.
func TestServeFlagsInREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, help := capture(t, func() { runMain([]string{"serve", "-h"}) })
	var flags []string
	for _, line := range strings.Split(help, "\n") {
		if f, ok := strings.CutPrefix(line, "  -"); ok {
			flags = append(flags, strings.Fields(f)[0])
		}
	}
	if len(flags) < 30 {
		t.Fatalf("read %d flags from serve -h: %q", len(flags), help)
	}
	for _, f := range flags {
		if !strings.Contains(string(readme), "`--"+f+"`") {
			t.Errorf("serve --%s is not in README's configuration table", f)
		}
	}
}

// --confirmations takes a depth or "finalized" (the chain's finalized block
// tag), from the command line or the environment.
func TestServeConfirmations(t *testing.T) {
	db := []string{"--database-url", "postgres://x@127.0.0.1/x"}
	for _, c := range []struct {
		args []string
		env  string
		want uint64
		bad  bool
	}{
		{nil, "", 1, false},
		{[]string{"--confirmations", "12"}, "", 12, false},
		{[]string{"--confirmations", "finalized", "--eth-rpc", "http://127.0.0.1:1", "--eth-key-file", "k"}, "", anchor.Finalized, false},
		{[]string{"--eth-rpc", "http://127.0.0.1:1", "--eth-key-file", "k"}, "finalized", anchor.Finalized, false},
		{[]string{"--confirmations", "finalized"}, "", 0, true}, // the embedded chain never finalizes a batch
		{[]string{"--confirmations", "soon"}, "", 0, true},
		{[]string{"--confirmations", "0"}, "", 0, true},
		{[]string{"--confirmations", "18446744073709551615"}, "", 0, true},
	} {
		t.Run(strings.Join(c.args, " ")+c.env, func(t *testing.T) {
			t.Setenv("IDSLEDGER_CONFIRMATIONS", c.env)
			if c.env == "" {
				os.Unsetenv("IDSLEDGER_CONFIRMATIONS")
			}
			cfg, err := parseServe(append(c.args, db...))
			switch {
			case c.bad && (!isUsage(err) || !strings.Contains(err.Error(), "confirmations")):
				t.Fatalf("err = %v, want a usage error naming --confirmations", err)
			case !c.bad && err != nil:
				t.Fatal(err)
			case !c.bad && cfg.confirmations != c.want:
				t.Fatalf("confirmations %d, want %d", cfg.confirmations, c.want)
			}
		})
	}
}
