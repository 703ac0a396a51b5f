//go:build integration

package main

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// envAsMain makes the test binary run as idsledger itself: the integration
// tests start `serve` as a real child process, with its own stdout and
// stderr, that they can signal or kill, as an operator's supervisor would.
const envAsMain = "IDSLEDGER_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envAsMain) == "1" {
		os.Exit(runMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// proc is an idsledger child process and its stderr (the JSON log).
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error // the exit, once done is closed
}

// Write keeps the child's stderr.
func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

// Logs is the child's stderr so far.
func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startIDSLedger runs `idsledger args...` as a child process. When the test
// ends the child is stopped with SIGTERM (SIGKILL after 30 s), and its log
// tail is printed if the test failed.
func startIDSLedger(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), envAsMain+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t, 30*time.Second)
		if t.Failed() {
			l := p.Logs()
			t.Logf("idsledger %s log (last 4 KiB):\n%s", args[0], l[max(0, len(l)-4096):])
		}
	})
	return p
}

// stop sends SIGTERM and waits up to grace for the exit (then SIGKILL). It
// returns the exit error: nil for a clean stop.
func (p *proc) stop(t *testing.T, grace time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("idsledger did not stop within %s of SIGTERM", grace)
	}
	return p.err
}

// kill ends the child with SIGKILL, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
