package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The compose stack's service starts: the environment docker/compose.yaml
// and docker/Dockerfile give `serve` is a configuration it accepts (a
// listen address on all interfaces needs TLS or IDSLEDGER_INSECURE_HTTP),
// and every variable they set is one serve reads.
func TestComposeConfigurationIsAccepted(t *testing.T) {
	env := map[string]string{}
	dockerfile, err := os.ReadFile("../../docker/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(IDSLEDGER_\w+)=(\S+)`).FindAllStringSubmatch(string(dockerfile), -1) {
		env[m[1]] = m[2]
	}
	compose, err := os.ReadFile("../../docker/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\s+((?:IDSLEDGER|DATABASE)_\w+): (.+)$`).FindAllStringSubmatch(string(compose), -1) {
		env[m[1]] = strings.Trim(strings.TrimSpace(m[2]), `"`)
	}
	if env["IDSLEDGER_ADDR"] == "" || env["DATABASE_URL"] == "" {
		t.Fatalf("read no address or database from the docker files: %v", env)
	}
	_, help := capture(t, func() { runMain([]string{"serve", "-h"}) })
	for k, v := range env {
		if !strings.Contains(help, "("+k+")") && k != "IDSLEDGER_ETH_KEY" && k != "IDSLEDGER_WEBHOOK_KEY" {
			t.Errorf("the docker files set %s, which serve does not read", k)
		}
		t.Setenv(k, v)
	}
	if _, err := parseServe(nil); err != nil {
		t.Fatalf("serve refuses the compose configuration: %v", err)
	}
}
