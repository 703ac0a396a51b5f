package federated

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// testRound is an open round 4 of three invited sites (keys 1..3) over a
// 3-weight model, needing 2 updates by t0+1h.
func testRound(t *testing.T) (*Round, []*ecdsa.PrivateKey) {
	t.Helper()
	keys := []*ecdsa.PrivateKey{testKey(t, 1), testKey(t, 2), testKey(t, 3)}
	r := &Round{
		Number: 4, ChainID: 1337, BaseModelID: testBase, Dim: 3,
		Opened: t0, Deadline: t0.Add(time.Hour), MinUpdates: 2,
		Policy: Policy{Rule: Rule{Kind: RuleFedAvg}, DP: DPPolicy{Mode: DPOff}, Compression: Compression{Encoding: EncF32}},
	}
	for _, k := range keys {
		r.Sites = append(r.Sites, crypto.PubkeyToAddress(k.PublicKey))
	}
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	return r, keys
}

func TestAcceptRefusesWithTheRightReason(t *testing.T) {
	outsider := testKey(t, 9)
	tests := []struct {
		name string
		make func(t *testing.T, keys []*ecdsa.PrivateKey) *Update
		now  time.Time
		want error
	}{
		{"late", func(t *testing.T, k []*ecdsa.PrivateKey) *Update { return signedUpdate(t, k[0], 4, []float32{1, 2, 3}) }, t0.Add(time.Hour + time.Second), ErrLate},
		{"replayed from round 3", func(t *testing.T, k []*ecdsa.PrivateKey) *Update { return signedUpdate(t, k[0], 3, []float32{1, 2, 3}) }, t0, ErrWrongRound},
		{"wrong base model", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			u := signedUpdate(t, k[0], 4, []float32{1, 2, 3})
			u.BaseModel = "ff" + testBase[2:]
			u.Sign(k[0])
			return u
		}, t0, ErrWrongBase},
		{"another chain", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			u := signedUpdate(t, k[0], 4, []float32{1, 2, 3})
			u.ChainID = 1
			u.Sign(k[0])
			return u
		}, t0, ErrWrongChain},
		{"site not invited", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			return signedUpdate(t, outsider, 4, []float32{1, 2, 3})
		}, t0, ErrNotEnrolled},
		{"wrong shape", func(t *testing.T, k []*ecdsa.PrivateKey) *Update { return signedUpdate(t, k[0], 4, []float32{1, 2}) }, t0, ErrShape},
		{"other encoding than the policy", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			u := signedUpdate(t, k[0], 4, []float32{1, 2, 3})
			u.Encoding, u.Payload = EncQ8, nil
			u.Payload, _ = Compression{Encoding: EncQ8}.Encode([]float32{1, 2, 3}, nil)
			u.Sign(k[0])
			return u
		}, t0, ErrPolicy},
		{"dp not as asked", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			u := signedUpdate(t, k[0], 4, []float32{1, 2, 3})
			u.DP = DPParams{Clip: 1, Sigma: 1}
			u.Sign(k[0])
			return u
		}, t0, ErrPolicy},
		{"signed by someone else", func(t *testing.T, k []*ecdsa.PrivateKey) *Update {
			u := signedUpdate(t, outsider, 4, []float32{1, 2, 3})
			u.Site = crypto.PubkeyToAddress(k[0].PublicKey) // claims to be site 1
			return u
		}, t0, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, keys := testRound(t)
			before, _ := json.Marshal(r)
			if _, err := r.Accept(tc.make(t, keys), tc.now); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if after, _ := json.Marshal(r); string(after) != string(before) {
				t.Error("a refused update changed the round")
			}
		})
	}
}

// TestRestartMidRound: the coordinator persists the round after each
// Accept, dies, reloads it: every acknowledged update is there once, a
// retry of one is ErrResubmitted, another update of that site ErrDuplicate.
func TestRestartMidRound(t *testing.T) {
	r, keys := testRound(t)
	u1 := signedUpdate(t, keys[0], 4, []float32{1, 2, 3})
	delta, err := r.Accept(u1, t0.Add(time.Minute))
	if err != nil || len(delta) != 3 || delta[2] != 3 {
		t.Fatalf("accept: %v %v", delta, err)
	}
	stored, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}

	var back Round
	if err := json.Unmarshal(stored, &back); err != nil {
		t.Fatal(err)
	}
	if _, err := back.Accept(u1, t0.Add(2*time.Minute)); !errors.Is(err, ErrResubmitted) {
		t.Errorf("retry after restart: %v, want ErrResubmitted", err)
	}
	other := signedUpdate(t, keys[0], 4, []float32{9, 9, 9})
	if _, err := back.Accept(other, t0.Add(2*time.Minute)); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second update of a site: %v, want ErrDuplicate", err)
	}
	if len(back.Received) != 1 || back.Received[0].UpdateHash != u1.UpdateHash() || back.BytesUp != 12 {
		t.Fatalf("received %+v, bytes up %d", back.Received, back.BytesUp)
	}
	if _, err := back.Accept(signedUpdate(t, keys[1], 4, []float32{0, 0, 0}), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if back.ReadyToClose(t0.Add(3 * time.Minute)) {
		t.Error("2 of 3 before the deadline: not ready yet")
	}
	if !back.ReadyToClose(back.Deadline) {
		t.Error("min updates at the deadline: ready")
	}
}

// TestCentralDPClipsAtTheCoordinator: a site that does not clip cannot
// break the sensitivity the central noise is calibrated to.
func TestCentralDPClipsAtTheCoordinator(t *testing.T) {
	r, keys := testRound(t)
	r.Policy.DP = DPPolicy{Mode: DPCentral, Clip: 1, Sigma: 1}
	u := signedUpdate(t, keys[0], 4, []float32{30, 40, 0})
	u.DP = DPParams{Clip: 1}
	u.Sign(keys[0])
	delta, err := r.Accept(u, t0)
	if err != nil {
		t.Fatal(err)
	}
	if n := Norm(delta); n > 1+1e-6 {
		t.Errorf("norm %v after central clipping to 1", n)
	}
}

func TestRoundLifecycle(t *testing.T) {
	r, keys := testRound(t)
	if err := r.BeginClosing(t0); !errors.Is(err, ErrNotReady) {
		t.Errorf("closing with no updates: %v", err)
	}
	if !r.Expired(r.Deadline) || r.Expired(t0) {
		t.Error("a round without its minimum at the deadline has expired, not before")
	}
	for _, k := range keys {
		if _, err := r.Accept(signedUpdate(t, k, 4, []float32{1, 1, 1}), t0); err != nil {
			t.Fatal(err)
		}
	}
	if !r.ReadyToClose(t0) {
		t.Error("every invited site is in: ready before the deadline")
	}
	if err := r.BeginClosing(t0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Accept(signedUpdate(t, keys[0], 4, []float32{1, 1, 1}), t0); !errors.Is(err, ErrRoundClosed) {
		t.Errorf("accept while closing: %v", err)
	}
	if err := r.Complete("nothex"); err == nil {
		t.Error("complete with a bad model id")
	}
	if err := r.Complete(testBase); err != nil || r.State != StateClosed {
		t.Fatalf("complete: %v, %s", err, r.State)
	}
	if err := r.Fail("late"); !errors.Is(err, ErrRoundClosed) {
		t.Errorf("fail a closed round: %v", err)
	}

	full, keys := testRound(t)
	full.MaxUpdates = 2
	full.Accept(signedUpdate(t, keys[0], 4, []float32{1, 1, 1}), t0)
	full.Accept(signedUpdate(t, keys[1], 4, []float32{1, 1, 1}), t0)
	if !full.ReadyToClose(t0) {
		t.Error("max updates reached: ready")
	}
	if _, err := full.Accept(signedUpdate(t, keys[2], 4, []float32{1, 1, 1}), t0); !errors.Is(err, ErrRoundFull) {
		t.Errorf("over max: %v", err)
	}
	if err := full.Fail("operator"); err != nil || full.State != StateFailed || full.FailReason != "operator" {
		t.Errorf("fail: %v %+v", err, full.State)
	}
}

func TestOpenRefusesRoundsThatCannotSucceed(t *testing.T) {
	base := func() *Round {
		return &Round{
			Number: 1, BaseModelID: testBase, Dim: 3, Opened: t0, Deadline: t0.Add(time.Hour), MinUpdates: 2,
			Sites:  []common.Address{{1}, {2}, {3}},
			Policy: Policy{Rule: Rule{Kind: RuleFedAvg}, Compression: Compression{Encoding: EncF32}},
		}
	}
	tests := map[string]func(r *Round){
		"krum needs more than min": func(r *Round) { r.Policy.Rule = Rule{Kind: RuleKrum, F: 1} },
		"fewer sites than needed":  func(r *Round) { r.MinUpdates = 4 },
		"deadline not after open":  func(r *Round) { r.Deadline = r.Opened },
		"central dp with median": func(r *Round) {
			r.Policy.Rule = Rule{Kind: RuleMedian}
			r.Policy.DP = DPPolicy{Mode: DPCentral, Clip: 1, Sigma: 1}
		},
		"site invited twice":    func(r *Round) { r.Sites = append(r.Sites, common.Address{1}) },
		"bad base model":        func(r *Round) { r.BaseModelID = "x" },
		"max below min":         func(r *Round) { r.MaxUpdates = 1 },
		"topk without fraction": func(r *Round) { r.Policy.Compression = Compression{Encoding: EncTopK} },
		"no dimension":          func(r *Round) { r.Dim = 0 },
	}
	for name, f := range tests {
		r := base()
		f(r)
		if err := r.Open(); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	r := base()
	if err := r.Open(); err != nil {
		t.Fatal(err)
	}
	if err := r.Open(); !errors.Is(err, ErrRoundClosed) {
		t.Errorf("opened twice: %v", err)
	}
}
