package detector

import "fmt"

// SelfTest is the gate before a model takes over: ingest's Models.Swap
// (every upload, federated promotion and restore at start goes through it)
// and serve's --model call it, and so can anyone about to store or promote
// a model, such as the federation's coordinator. It validates d
// (Validate), then scores a synthetic batch
// made from the pipeline and refuses the model if scoring fails or panics,
// or if a prediction has a score or probability that is not finite or a
// class the model does not have. Validation bounds what a file declares;
// this catches what only running the model shows, such as finite weights
// whose scores overflow (a NaN score never alerts, +Inf always does).
// Errors wrap ErrModelFile.
func (d *Detector) SelfTest() error {
	if err := d.Validate(); err != nil {
		return err
	}
	flows := d.Pipeline.syntheticFlows()
	preds, err := d.Detect(flows)
	if err != nil {
		return fmt.Errorf("%w: self-test: scoring %d synthetic flows failed: %w", ErrModelFile, len(flows), err)
	}
	if len(preds) != len(flows) {
		return modelFileError(invalid("self-test", "%d predictions for %d synthetic flows", len(preds), len(flows)))
	}
	classes := len(d.Pipeline.Classes)
	for i, p := range preds {
		switch {
		case !isFinite(p.Score):
			return modelFileError(invalid("self-test", "synthetic flow %d scores %v", i, p.Score))
		case p.Class != ClassAnomaly && (p.Class < 0 || p.Class >= classes):
			return modelFileError(invalid("self-test", "synthetic flow %d has class %d of %d", i, p.Class, classes))
		case p.Probs != nil && len(p.Probs) != classes:
			return modelFileError(invalid("self-test", "synthetic flow %d has %d probabilities for %d classes", i, len(p.Probs), classes))
		}
		for c, q := range p.Probs {
			if !isFinite(float64(q)) {
				return modelFileError(invalid("self-test", "synthetic flow %d: probability of class %d is %v", i, c, q))
			}
		}
	}
	return nil
}

// syntheticFlows are flows over the pipeline's features alone, all of one
// source: one with every feature missing (the imputed value, or the unknown
// category), one with every feature at its lowest, one at its highest (a
// numeric feature's -inf and +inf scale to 0 and 1; a categorical one's
// first and last category), then flows mixing the three, enough that a
// window fills with the mixes.
func (p *Pipeline) syntheticFlows() []*Flow {
	h := NewHeader(p.FeatureNames())
	flows := make([]*Flow, max(p.Window, 1)+6)
	for r := range flows {
		values := make([]string, len(p.Features))
		for k := range p.Features {
			variant := r % 3
			if r >= 3 {
				variant = (r + k) % 3
			}
			values[k] = p.Features[k].synthetic(variant)
		}
		flows[r] = &Flow{Header: h, Values: values, Source: "self-test", Line: r + 1}
	}
	return flows
}

// synthetic is a raw value of the feature: 0 missing, 1 lowest, 2 highest.
func (ft *Feature) synthetic(variant int) string {
	switch {
	case variant == 0:
		return ""
	case ft.Categorical && variant == 1:
		return ft.Categories[0]
	case ft.Categorical:
		return ft.Categories[len(ft.Categories)-1]
	case variant == 1:
		return "-inf"
	}
	return "+inf"
}
