package ingest

import "math"

// Risk puts any model's score on one scale, 0 to 100, relative to the
// model's alert threshold: 50 at the threshold, 0 at a score of 0, rising
// towards 100. Below the threshold it is linear, 50·score/threshold. Above
// it, a supervised score (1 − P(benign), at most 1) rises linearly to 100
// at 1 (so a BiLSTM's risk is 100·score), and the unbounded score of an
// anomaly model follows 100 − 50·threshold/score (75 at twice the
// threshold, 90 at five times, 95 at ten). It is rounded to a tenth, so
// the anchored value reads the same everywhere. SOC exports carry it as
// their 0-100 risk and confidence scores.
func Risk(supervised bool, score, threshold float64) float64 {
	var r float64
	switch {
	case math.IsNaN(score) || score <= 0:
		r = 0
	case threshold <= 0 || (supervised && threshold >= 1):
		r = 50 // no usable threshold: at the line
	case score < threshold:
		r = 50 * score / threshold
	case supervised:
		r = 50 + 50*min(1, (score-threshold)/(1-threshold))
	default:
		r = 100 - 50*threshold/score
	}
	return math.Round(r*10) / 10
}

// SeverityOf ranks an alert by its risk: critical from 95, high from 80,
// medium from 60, low below. For a BiLSTM these are P(attack) of 0.95,
// 0.8 and 0.6; for an anomaly model, scores of 10, 2.5 and 1.25 times its
// threshold.
func SeverityOf(risk float64) Severity {
	switch {
	case risk >= 95:
		return SeverityCritical
	case risk >= 80:
		return SeverityHigh
	case risk >= 60:
		return SeverityMedium
	}
	return SeverityLow
}
