package ingest

// SeverityOf ranks an alert by how far its score is past the alert line.
// Supervised scores are 1 − P(benign): critical from 0.99, high from 0.9,
// medium from 0.7. Unsupervised scores are raw anomaly scores, ranked by
// their ratio to the model's threshold: critical from 4×, high from 2×,
// medium from 1.25×.
func SeverityOf(supervised bool, score, threshold float64) Severity {
	x, cuts := score, [3]float64{0.99, 0.9, 0.7}
	if !supervised {
		if threshold <= 0 {
			return SeverityMedium
		}
		x, cuts = score/threshold, [3]float64{4, 2, 1.25}
	}
	switch {
	case x >= cuts[0]:
		return SeverityCritical
	case x >= cuts[1]:
		return SeverityHigh
	case x >= cuts[2]:
		return SeverityMedium
	}
	return SeverityLow
}
