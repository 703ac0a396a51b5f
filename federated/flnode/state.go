package flnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/federated"
)

// The data directory of a site:
//
//	site.key                 the site's secp256k1 key (federated.LoadOrCreateKey)
//	feedback.json            the error-feedback residual after the last update made
//	rounds/<n>/feedback.json the residual right after round n's update was encoded
//	rounds/<n>/update.json   round n's signed update, the exact bytes submitted
//	rounds/<n>/result.json   what the coordinator answered (acknowledged or refused)
//
// Files are written whole (a temporary file synced, then renamed), so a
// crash leaves each either absent or complete. update.json is the commit
// point of a round: it is written before the update is first sent, and
// when it exists the node sends it again rather than train again, so one
// round never sees two different updates from this site. Its residual is
// written first (rounds/<n>/feedback.json) and copied to feedback.json
// after, so the residual always matches the last update made: a restart
// after update.json but before the copy restores it from the round.
const (
	keyFile      = "site.key"
	feedbackFile = "feedback.json"
	roundsDir    = "rounds"
	updateFile   = "update.json"
	resultFile   = "result.json"
)

// KeyPath is where a site's key lives in its data directory.
func KeyPath(dir string) string { return filepath.Join(dir, keyFile) }

// Outcome names what became of a round's update.
type Outcome string

const (
	// Acknowledged: the coordinator stored the update (it will be judged
	// when the round closes).
	Acknowledged Outcome = "acknowledged"
	// Refused: the coordinator refused it for good (403, 409, 413, 422);
	// it is not sent again.
	Refused Outcome = "refused"
	// Elsewhere: the round already holds an update of this site that this
	// data directory did not make (another node, or lost state).
	Elsewhere Outcome = "submitted elsewhere"
)

// Result is what the node did in one round, as result.json keeps it.
type Result struct {
	Round      uint64         `json:"round"`
	BaseModel  string         `json:"base_model"`
	Site       common.Address `json:"site"`
	Outcome    Outcome        `json:"outcome"`
	UpdateHash common.Hash    `json:"update_hash,omitzero"`
	// RecordID is the coordinator's record of an acknowledged update;
	// Again says it had been acknowledged before (a resubmission).
	RecordID string `json:"record_id,omitempty"`
	Again    bool   `json:"again,omitempty"`
	// Status and Detail are the refusal's HTTP status and problem detail.
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Report is what local training did (nil when a saved update was sent
	// again after a restart).
	Report *federated.LocalReport `json:"report,omitempty"`
	// Resubmitted: the update was made before a restart and sent again.
	Resubmitted bool      `json:"resubmitted,omitempty"`
	At          time.Time `json:"at"`
}

// state is a site's data directory.
type state struct{ dir string }

func (s state) roundDir(n uint64) string {
	return filepath.Join(s.dir, roundsDir, strconv.FormatUint(n, 10))
}

// savedUpdate returns round n's saved update and its exact bytes, or
// (nil, nil, nil) when there is none.
func (s state) savedUpdate(n uint64) (*federated.Update, []byte, error) {
	b, err := os.ReadFile(filepath.Join(s.roundDir(n), updateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var u federated.Update
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, nil, fmt.Errorf("saved update %s: %w", filepath.Join(s.roundDir(n), updateFile), err)
	}
	return &u, b, nil
}

// result returns round n's result, if the round has one.
func (s state) result(n uint64) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(s.roundDir(n), resultFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("round result %s: %w", filepath.Join(s.roundDir(n), resultFile), err)
	}
	return &r, nil
}

// saveUpdate commits round n's update: its residual first, then the
// update itself, then the residual as the current one.
func (s state) saveUpdate(n uint64, body []byte, fb *federated.ErrorFeedback) error {
	dir := s.roundDir(n)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var fbJSON []byte
	if fb != nil {
		var err error
		if fbJSON, err = json.Marshal(fb); err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(dir, feedbackFile), fbJSON); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, updateFile), body); err != nil {
		return err
	}
	if fbJSON != nil {
		return writeFileAtomic(filepath.Join(s.dir, feedbackFile), fbJSON)
	}
	return nil
}

// restoreFeedback makes round n's residual the current one (a restart may
// have come between saving round n's update and copying its residual).
func (s state) restoreFeedback(n uint64) error {
	b, err := os.ReadFile(filepath.Join(s.roundDir(n), feedbackFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dir, feedbackFile), b)
}

// feedback is the current residual (empty when there is none yet).
func (s state) feedback() (*federated.ErrorFeedback, error) {
	fb := &federated.ErrorFeedback{}
	b, err := os.ReadFile(filepath.Join(s.dir, feedbackFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fb, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, fb); err != nil {
		return nil, fmt.Errorf("error-feedback state %s: %w", filepath.Join(s.dir, feedbackFile), err)
	}
	return fb, nil
}

func (s state) saveResult(r Result) error {
	dir := s.roundDir(r.Round)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, resultFile), append(b, '\n'))
}

// setAside moves round n's directory out of the way: it belongs to
// another federation that reused the round number (another chain or base
// model), and must neither be sent nor block this round.
func (s state) setAside(n uint64) (string, error) {
	to := s.roundDir(n) + ".stale-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	return to, os.Rename(s.roundDir(n), to)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, synced, renamed into place, and the directory synced.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
