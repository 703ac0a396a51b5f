package flsim

import (
	"fmt"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
)

// Centralized is the comparison federated learning is measured against:
// the same model, from the same starting point, trained in one place on
// the union of the sites' training rows (train; valid as the sites'
// validation rows) with the same epoch budget (epochs = rounds × local
// epochs), the policy's batch size and learning rate and the class
// weights of Policy.TrainConfig on the union, without DP or compression,
// as TrainUpdate trains (unsupervised kinds on the benign rows only). The result keeps initial's pipeline.
func Centralized(initial *detector.Detector, train, valid detector.Labeled, p federated.Policy, epochs int, seed int64) (*detector.Detector, error) {
	kind := initial.Model.Kind()
	k, ok := detector.LookupModel(kind)
	if !ok {
		return nil, fmt.Errorf("flsim: centralized: unknown model %q", kind)
	}
	m, err := detector.NewModel(kind, initial.Model.Config())
	if err != nil {
		return nil, err
	}
	b, err := initial.Model.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if !k.Supervised {
		benign := m.Config().BenignClass
		var idx []int
		for i, y := range train.Y {
			if y == benign {
				idx = append(idx, i)
			}
		}
		train = train.Subset(idx)
	}
	if train.Len() == 0 {
		return nil, fmt.Errorf("flsim: centralized: no training rows")
	}
	tc, err := p.TrainConfig(m, train, seed)
	if err != nil {
		return nil, err
	}
	tc.Epochs = epochs
	if err := m.Fit(train, valid, tc, nil); err != nil {
		return nil, fmt.Errorf("flsim: centralized %s: %w", kind, err)
	}
	d, err := detector.NewDetector(initial.Pipeline, m, nil)
	if err != nil {
		return nil, err
	}
	file, err := d.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return detector.DecodeDetector(file)
}
