package detector

import (
	"testing"
)

// Micro-benchmarks of the serving path. Throughput and latency are measured
// here and by `idsledger bench detector`, never asserted: the machine is
// shared.

var benchClasses = []string{"Benign", "DoS", "DDoS", "Reconnaissance", "Theft"}

func benchBiLSTM(b *testing.B) (*BiLSTM, Seqs) {
	m, err := NewBiLSTM(ModelConfig{T: 10, F: 1, Hidden: 32, Classes: benchClasses, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.InitWeights(); err != nil {
		b.Fatal(err)
	}
	return m, randomSeqs(256, 10, 1, 1)
}

func BenchmarkBiLSTMServeBatch256(b *testing.B) {
	m, x := benchBiLSTM(b)
	for b.Loop() {
		if _, err := m.Predict(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "windows/s")
}

func BenchmarkBiLSTMGorgoniaBatch256(b *testing.B) {
	m, x := benchBiLSTM(b)
	p, err := NewGorgoniaPredictor(m, 256)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := p.Probs(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "windows/s")
}

func BenchmarkBiLSTMServeSingle(b *testing.B) {
	m, x := benchBiLSTM(b)
	one := x.Slice(0, 1)
	for b.Loop() {
		if _, err := m.Predict(one); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutoencoderServe(b *testing.B) {
	ae, err := NewAutoencoder(ModelConfig{T: 1, F: 38, Classes: benchClasses, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := ae.InitWeights(); err != nil {
		b.Fatal(err)
	}
	x := randomSeqs(4096, 1, 38, 2)
	for b.Loop() {
		if _, err := ae.Scores(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*x.N)/b.Elapsed().Seconds(), "rows/s")
}
