package chainhunt

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/internal/testenv"
)

// receivedScorer is a fake model: an account that received at least three
// transactions scores 1, any other 0. It counts its calls per received
// count.
type receivedScorer struct {
	mu    sync.Mutex
	calls int
}

func (s *receivedScorer) Score(f []float64) (float64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if f[columnIndex("Received Tnx")] >= 3 {
		return 1, nil
	}
	return 0, nil
}

func (s *receivedScorer) Model() (id, version, kind string) { return "fake-model", "v1", "fake" }

func columnIndex(name string) int {
	for i, n := range detector.EthAccountFeatureNames() {
		if n == name {
			return i
		}
	}
	panic(name)
}

// Accounts are scored when a block changes them, at most once every
// ScoreEvery blocks; one changed meanwhile is scored when its time is up,
// and one over the threshold raises a fraud alert with the model's name and
// the features it saw. Contracts are not scored.
func TestHunterScoresAccountsDebounced(t *testing.T) {
	c := newTestChain(t)
	// The registry receives more than three transactions: it is not
	// scored (nor is any contract, or the anchorer).
	known := &knownBatches{roots: map[uint64]common.Hash{}}
	for id := uint64(1); id <= 4; id++ {
		anchorNormally(t, c, known, id)
	}
	store := newMemStore()
	sc := &receivedScorer{}
	cfg := c.config()
	cfg.Scorer, cfg.ScoreEvery = sc, 5
	h, _ := runHunter(t, c, cfg, store, nil, nil)
	waitProcessed(t, h, c.head(t))

	c.transfer(t, 1, alice)
	first := c.head(t)
	c.transfer(t, 1, alice) // debounced: alice was scored in first
	c.transfer(t, 1, alice) // debounced; alice has received 3 now
	waitProcessed(t, h, c.head(t))
	if n := len(store.stored("")); n != 0 {
		t.Fatalf("%d alerts before the debounce ended", n)
	}
	for range 3 {
		c.mine() // empty blocks: first+3 .. first+5
	}
	testenv.Eventually(t, time.Minute, "alice alerted", func() bool { return len(store.stored("fake")) == 1 })
	a := store.stored("fake")[0]
	if a.Account != alice || a.BlockNumber != first+5 || a.Class != ClassFraud || a.Method != MethodModel ||
		a.ModelID != "fake-model" || a.ModelVersion != "v1" || a.Evidence["Received Tnx"] != "3" || a.Score != 1 {
		t.Fatalf("alert %+v", a)
	}
	c.transfer(t, 1, alice)
	waitProcessed(t, h, c.head(t))
	if n := len(store.stored("fake")); n != 1 {
		t.Fatalf("%d alerts: alice alerted again within the debounce", n)
	}
}

// DetectorScorer scores live accounts with a model trained on rows of the
// ethereum-accounts kind: here a tiny gradient-boosted model that learnt
// that accounts receiving many transactions are fraudulent.
func TestDetectorScorer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := detector.EthAccountFeatureNames()
	var b strings.Builder
	b.WriteString("Address,FLAG," + strings.Join(names, ",") + "\n")
	for i := range 300 {
		fraud := i%2 == 0
		vals := make([]string, len(names))
		for j := range names {
			vals[j] = fmt.Sprint(rng.IntN(5))
		}
		recv := 1 + rng.IntN(4)
		if fraud {
			recv = 40 + rng.IntN(60)
		}
		vals[columnIndex("Received Tnx")] = fmt.Sprint(recv)
		fmt.Fprintf(&b, "0x%x,%d,%s\n", i, map[bool]int{true: 1}[fraud], strings.Join(vals, ","))
	}
	r, err := detector.NewReader("ethereum-accounts", strings.NewReader(b.String()), "accounts.csv", detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var flows []*detector.Flow
	for {
		f, err := r.Next()
		if err != nil {
			break
		}
		flows = append(flows, f)
	}
	res, err := detector.Train(flows, detector.TrainOptions{Dataset: "ethereum-accounts", Model: "gbt", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewDetectorScorer(res.Detector, "v1")
	if err != nil {
		t.Fatal(err)
	}
	account := func(received int) []float64 {
		var a Account
		for i := range received {
			a.AddTx(alice, EtherTx{From: common.BigToAddress(big.NewInt(int64(i + 1))), To: &alice, Value: big.NewInt(1), Time: int64(i)})
		}
		return a.Features()
	}
	busy, err := s.Score(account(80))
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := s.Score(account(2))
	if err != nil {
		t.Fatal(err)
	}
	if thr := s.Threshold(); busy < thr || quiet >= thr || busy > 1 || quiet < 0 {
		t.Fatalf("scores: busy %v, quiet %v, threshold %v", busy, quiet, thr)
	}
	if id, version, kind := s.Model(); id == "" || version != "v1" || kind != "gbt" {
		t.Fatalf("model %q %q %q", id, version, kind)
	}
	if _, err := s.Score(make([]float64, 3)); err == nil {
		t.Fatal("scored 3 features")
	}
}
