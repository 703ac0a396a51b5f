package detector

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

// A panic in a worker goroutine reaches the caller's goroutine, where the
// scoring entry point returns it as an error; without that, it would end
// the process whatever the caller recovers.
func TestGoWorkersRaisePanicsInTheCaller(t *testing.T) {
	score := func() (err error) {
		defer catchPanic(&err)
		goWorkers(4, func(w int) {
			if w == 2 {
				var s []int
				_ = s[w] // index out of range
			}
		})
		return nil
	}
	err := score()
	var pe *PanicError
	if !errors.Is(err, ErrPanic) || !errors.As(err, &pe) {
		t.Fatalf("got %v, want a *PanicError", err)
	}
	if !strings.Contains(pe.Where, "TestGoWorkersRaisePanicsInTheCaller") || !strings.Contains(string(pe.Stack), "guard_test.go") {
		t.Errorf("the panic is located at %q; stack:\n%s", pe.Where, pe.Stack)
	}
}

// An isolation forest whose split names a feature the rows do not have
// (set in memory, past the decoder's checks) panics in a scoring
// goroutine once the batch is split across cores: Detect and a Stream
// return the panic as an error and the process goes on.
func TestDetectReturnsScoringPanics(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	res, flows := trainSample(t, "iforest")
	d := res.Detector
	w := d.Model.Weights()
	w[0] = 1000 // tree 0, node 0: split on feature 1000
	if err := d.Model.SetWeights(w); err != nil {
		t.Fatal(err)
	}
	batch := make([]*Flow, 1024) // past anomalyBase.predict's 512: split across goroutines
	for i := range batch {
		batch[i] = flows[i%len(flows)]
	}
	for name, detect := range map[string]func([]*Flow) ([]Prediction, error){
		"Detect": d.Detect, "Stream": d.NewStream(StreamOptions{}).Detect, "one flow": func(f []*Flow) ([]Prediction, error) { return d.Detect(f[:1]) },
	} {
		if _, err := detect(batch); !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "iforest") {
			t.Errorf("%s: got %v, want ErrPanic located in the iforest", name, err)
		}
	}
}
