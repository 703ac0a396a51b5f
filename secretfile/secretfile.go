// Package secretfile keeps the small secret files of the service and its
// sites: the service's Ethereum key, a federated site's signing key, the
// key that seals webhook secrets. One rule for all of them: created
// atomically with mode 0600 in a 0700 folder, and refused, as OpenSSH
// refuses such keys, when group or others may access them.
package secretfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExposed is a secret file that group or others may read, write or
// execute. The fix is its mode (chmod 600), not a looser rule.
var ErrExposed = errors.New("secret file accessible to group or others")

// Read returns the content of the secret file at path. A missing file is
// an error wrapping fs.ErrNotExist; a file group or others may access,
// one wrapping ErrExposed.
func Read(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; it must be accessible to its owner only (chmod 600 %s)", ErrExposed, path, perm, path)
	}
	return os.ReadFile(path)
}

// LoadOrCreate returns the content of the secret file at path, creating it
// first with the content newContent makes when the file does not exist:
// mode 0600, its folder made 0700 if missing. Creation is atomic (a
// temporary file, synced, then linked into place), so a crash leaves no
// half-written file and two processes starting at once end up with the
// same content. created says whether the file is new. An existing file
// that group or others may access is refused with ErrExposed.
func LoadOrCreate(path string, newContent func() ([]byte, error)) (content []byte, created bool, err error) {
	content, err = Read(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return content, false, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	content, err = newContent()
	if err != nil {
		return nil, false, err
	}
	tmp, err := os.CreateTemp(dir, ".secret-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, false, err
	}
	_, werr := tmp.Write(content)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process created it first
			content, err = Read(path)
			return content, false, err
		}
		return nil, false, err
	}
	return content, true, nil
}
