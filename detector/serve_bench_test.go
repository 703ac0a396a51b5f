package detector

import (
	"context"
	"os"
	"testing"
	"time"
)

// Throughput and latency are measured here and by `idsledger bench
// detector`, never asserted: the machine is shared.

func benchBiLSTM(b *testing.B) (*BiLSTM, Seqs) {
	m, err := NewBiLSTM(ModelConfig{T: 10, F: 1, Hidden: 32, Classes: []string{"Benign", "DoS", "DDoS", "Reconnaissance", "Theft"}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetWeights(m.d.initWeights(1)); err != nil {
		b.Fatal(err)
	}
	return m, benchSeqs(256, 10, 1, 1)
}

func BenchmarkBiLSTMServeBatch256(b *testing.B) {
	m, x := benchBiLSTM(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "windows/s")
}

func BenchmarkBiLSTMGorgoniaBatch256(b *testing.B) {
	m, x := benchBiLSTM(b)
	p, err := newGorgoniaPredictor(m.d, 256, m.w)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.probs(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "windows/s")
}

func BenchmarkBiLSTMServeSingle(b *testing.B) {
	m, x := benchBiLSTM(b)
	one := x.Slice(0, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Predict(one); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutoencoderServe(b *testing.B) {
	ae, err := NewAutoencoder(ModelConfig{T: 1, F: 38, Classes: []string{"Benign", "DoS", "DDoS", "Reconnaissance", "Theft"}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	w := make([]float32, ae.d.size())
	r := newRand(1, 7)
	for i := range w {
		w[i] = r.Float32() - 0.5
	}
	if err := ae.SetWeights(w); err != nil {
		b.Fatal(err)
	}
	x := benchSeqs(4096, 1, 38, 2)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ae.Scores(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestBenchServingRuns checks that BenchServing completes and reports every
// figure (values are printed, not asserted).
func TestBenchServingRuns(t *testing.T) {
	each := 50 * time.Millisecond
	if os.Getenv("DETECTOR_BENCH") != "" {
		each = 2 * time.Second
	}
	r, err := BenchServing(context.Background(), ServeBenchConfig{Each: each})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.ServingWindowsPerSecond <= 0 || r.GorgoniaWindowsPerSecond <= 0 || r.SingleWindowP99us <= 0 || r.AutoencoderRowsPerSecond <= 0 {
		t.Errorf("missing figures: %+v", r)
	}
}
