package secretfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "key")
	n := 0
	gen := func() ([]byte, error) { n++; return []byte{byte(n)}, nil }
	c1, created, err := LoadOrCreate(path, gen)
	if err != nil || !created || !bytes.Equal(c1, []byte{1}) {
		t.Fatalf("first: %v %v %v", c1, created, err)
	}
	st, _ := os.Stat(path)
	dst, _ := os.Stat(filepath.Dir(path))
	if st.Mode().Perm() != 0o600 || dst.Mode().Perm() != 0o700 {
		t.Fatalf("modes %v %v, want 0600 and 0700", st.Mode().Perm(), dst.Mode().Perm())
	}
	c2, created, err := LoadOrCreate(path, gen)
	if err != nil || created || !bytes.Equal(c2, c1) {
		t.Fatalf("second: %v %v %v", c2, created, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// A file group or others may read is refused, not used.
func TestExposedFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(path, func() ([]byte, error) { return []byte("new"), nil }); !errors.Is(err, ErrExposed) {
		t.Fatalf("0644 file: %v, want ErrExposed", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "k" {
		t.Fatal("the exposed file was overwritten")
	}
}

// Processes starting at once end up with one content.
func TestConcurrentCreationAgrees(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Go(func() {
			c, _, err := LoadOrCreate(path, func() ([]byte, error) { return []byte{byte(i)}, nil })
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		})
	}
	wg.Wait()
	for _, c := range got {
		if !bytes.Equal(c, got[0]) {
			t.Fatalf("contents differ: %v", got)
		}
	}
}
