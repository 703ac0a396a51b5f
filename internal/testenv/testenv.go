// Package testenv says what a test needs from the machine it runs on, and
// what happens when that is missing: on a developer's machine the test is
// skipped with the reason printed; under CI (the CI environment variable
// set, as .ci/run sets it) it fails, because CI must run every test.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SkipOrFail skips t with reason, or fails it under CI.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this test may not be skipped)", reason)
	}
	t.Skip(reason)
}

// RepoRoot returns the repository's root: the nearest directory above the
// working directory whose go.mod declares idsledger's module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/idsledger/idsledger\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: repository root not found above the working directory")
		}
		dir = parent
	}
}

// SharedDatasets returns the datasets folder beside the checkout
// (<root>/../shared/datasets), which every developer machine and CI have;
// without it the test is skipped, or fails under CI.
func SharedDatasets(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "..", "shared", "datasets")
	if _, err := os.Stat(dir); err != nil {
		SkipOrFail(t, fmt.Sprintf("the shared datasets are not beside the checkout at %s: %v", dir, err))
	}
	return dir
}

// Eventually polls cond, from the test goroutine, until it holds, and fails
// t naming what it waited for when it does not hold within timeout. Every
// polling loop in the tests goes through it, so none can wait for ever.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}
