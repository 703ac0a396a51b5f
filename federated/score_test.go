package federated

import (
	"errors"
	"math"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestMedianOddAndEven(t *testing.T) {
	odd, err := Median([][]float32{{1, 10}, {3, -10}, {2, 0}})
	if err != nil || odd[0] != 2 || odd[1] != 0 {
		t.Errorf("odd: %v %v", odd, err)
	}
	even, err := Median([][]float32{{1, 10}, {4, -10}, {2, 0}, {3, 5}})
	if err != nil || even[0] != 2.5 || even[1] != 2.5 {
		t.Errorf("even: %v %v", even, err)
	}
	if _, err := Median(nil); !errors.Is(err, ErrTooFew) {
		t.Errorf("none: %v", err)
	}
	if _, err := Median([][]float32{{1}, {1, 2}}); !errors.Is(err, ErrShape) {
		t.Errorf("ragged: %v", err)
	}
}

func TestScoreConversion(t *testing.T) {
	tests := []struct {
		name string
		m    Measurement
		want Score
	}{
		{"rounding", Measurement{Accuracy: 0.87654, Divergence: 0.0000015, Norm: 1.2345674}, Score{Anomaly: 1235, Divergence: 2, Norm: 1234567}},
		{"perfect", Measurement{Accuracy: 1}, Score{Anomaly: 0}},
		{"worthless", Measurement{Accuracy: 0, Divergence: 4294.967295}, Score{Anomaly: 10000, Divergence: math.MaxUint32}},
		{"saturates", Measurement{Accuracy: -3, Divergence: 1e12, Norm: math.Inf(1)}, Score{Anomaly: 10000, Divergence: math.MaxUint32, Norm: math.MaxUint32}},
		{"NaN is the worst", Measurement{Accuracy: math.NaN(), Divergence: math.NaN(), Norm: math.NaN()}, Score{Anomaly: 10000, Divergence: math.MaxUint32, Norm: math.MaxUint32}},
		{"accuracy above 1 clamps", Measurement{Accuracy: 1.5}, Score{Anomaly: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.Site, tc.want.Site = common.Address{7}, common.Address{7}
			if got := tc.m.Score(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	deltas := [][]float32{{0, 0}, {1, 0}, {0, 1}, {30, 40}}
	sites := []common.Address{{1}, {2}, {3}, {4}}
	hashes := make([]common.Hash, 4)
	acc := []float64{0.9, 0.8, 0.7, 0.1}
	rep := []float64{0.95, 0.9, 0.9, 0.99}
	ms, err := Measure(sites, hashes, deltas, acc, rep)
	if err != nil {
		t.Fatal(err)
	}
	// Reference: median per coordinate of {0,1,0,30} and {0,0,1,40} = 0.5, 0.5.
	wantDiv := []float64{math.Sqrt(0.5), math.Sqrt(0.5), math.Sqrt(0.5), math.Hypot(29.5, 39.5)}
	for i, m := range ms {
		if math.Abs(m.Divergence-wantDiv[i]) > 1e-12 || m.Norm != Norm(deltas[i]) {
			t.Errorf("%d: divergence %v norm %v, want %v %v", i, m.Divergence, m.Norm, wantDiv[i], Norm(deltas[i]))
		}
		if m.Site != sites[i] || m.Accuracy != acc[i] || m.ReportedAccuracy != rep[i] {
			t.Errorf("%d: %+v", i, m)
		}
	}
	if ms[3].Anomaly() != 0.9 || math.Abs(ms[3].ReportedAnomaly()-0.01) > 1e-12 {
		t.Errorf("anomaly %v reported %v", ms[3].Anomaly(), ms[3].ReportedAnomaly())
	}
	if _, err := Measure(sites[:3], hashes, deltas, acc, rep); !errors.Is(err, ErrShape) {
		t.Errorf("mismatched lengths: %v", err)
	}
}
