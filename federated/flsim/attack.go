package flsim

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/flnode"
)

// ErrAttack: an attack spec is invalid.
var ErrAttack = errors.New("flsim: attack")

// AttackKind names what a malicious site does.
type AttackKind string

const (
	// Scale multiplies the honest delta by K (model boosting).
	Scale AttackKind = "scale"
	// SignFlip negates the honest delta.
	SignFlip AttackKind = "signflip"
	// Noise replaces the delta with Gaussian noise of standard deviation K.
	Noise AttackKind = "noise"
	// LabelFlip trains honestly on wrong labels: supervised models on
	// labels rotated by one class (every label wrong), unsupervised ones
	// on attack traffic labelled benign (and benign labelled attack), so
	// the autoencoder learns attacks as normal.
	LabelFlip AttackKind = "labelflip"
	// FreeRider trains nothing: it sends Gaussian noise of standard
	// deviation K (default 1e-4; 0 sends zeros) and claims ten times its
	// real sample count, to weigh heavily in FedAvg for no work, and the
	// global model's own accuracy as its local one.
	FreeRider AttackKind = "freerider"
)

// DefaultFreeRiderNoise is the free rider's noise unless given.
const DefaultFreeRiderNoise = 1e-4

// FreeRiderClaim is how many times its real sample count a free rider
// claims.
const FreeRiderClaim = 10

// Attack is what a malicious site does to its update. Its text form
// (ParseAttack, String) is "scale:<k>", "signflip", "noise:<s>",
// "labelflip" or "freerider[:<s>]".
type Attack struct {
	Kind AttackKind
	K    float64
}

// ParseAttack parses an attack's text form.
func ParseAttack(s string) (Attack, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	a := Attack{Kind: AttackKind(kind)}
	num := func() (float64, bool) {
		v, err := strconv.ParseFloat(arg, 64)
		return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	var ok bool
	switch a.Kind {
	case Scale:
		a.K, ok = num()
		ok = ok && hasArg
	case Noise:
		a.K, ok = num()
		ok = ok && hasArg && a.K > 0
	case SignFlip, LabelFlip:
		ok = !hasArg
	case FreeRider:
		a.K, ok = DefaultFreeRiderNoise, true
		if hasArg {
			a.K, ok = num()
			ok = ok && a.K >= 0
		}
	}
	if !ok {
		return Attack{}, fmt.Errorf("%w: %q: want scale:<k>, signflip, noise:<s> (s > 0), labelflip or freerider[:<s>] (s >= 0)", ErrAttack, s)
	}
	return a, nil
}

func (a Attack) String() string {
	switch a.Kind {
	case Scale, Noise:
		return string(a.Kind) + ":" + strconv.FormatFloat(a.K, 'g', -1, 64)
	case FreeRider:
		if a.K != DefaultFreeRiderNoise {
			return string(a.Kind) + ":" + strconv.FormatFloat(a.K, 'g', -1, 64)
		}
	}
	return string(a.Kind)
}

// Wrap returns train made malicious. The updates it makes are well formed
// and properly signed with the site's key: the attacks are on what the
// update says, which only the coordinator's checks and the rule can catch.
func (a Attack) Wrap(train flnode.TrainFunc) flnode.TrainFunc {
	switch a.Kind {
	case Scale, SignFlip, Noise:
		return func(s federated.LocalStep) (*federated.Update, federated.LocalReport, error) {
			u, rep, err := train(s)
			if err != nil {
				return u, rep, err
			}
			delta, err := federated.Decode(u.Encoding, u.Payload, int(u.Dim))
			if err != nil {
				return nil, rep, err
			}
			switch a.Kind {
			case Scale:
				for i := range delta {
					delta[i] *= float32(a.K)
				}
			case SignFlip:
				for i := range delta {
					delta[i] = -delta[i]
				}
			case Noise:
				rng := newRand(s.Seed ^ 0x4a77ac)
				for i := range delta {
					delta[i] = float32(a.K * rng.NormFloat64())
				}
			}
			return resign(s, u, rep, delta)
		}
	case LabelFlip:
		return func(s federated.LocalStep) (*federated.Update, federated.LocalReport, error) {
			k, _ := detector.LookupModel(s.Global.Model.Kind())
			classes, benign := len(s.Global.Classes()), s.Global.Model.Config().BenignClass
			s.Train = flipLabels(s.Train, classes, benign, k.Supervised)
			s.Valid = flipLabels(s.Valid, classes, benign, k.Supervised)
			return train(s)
		}
	case FreeRider:
		return func(s federated.LocalStep) (*federated.Update, federated.LocalReport, error) {
			return freeRide(s, a.K)
		}
	}
	return train
}

// resign replaces u's delta with delta, encoded as the round asks, and
// signs it again with the site's key.
func resign(s federated.LocalStep, u *federated.Update, rep federated.LocalReport, delta []float32) (*federated.Update, federated.LocalReport, error) {
	payload, err := s.Task.Policy.Compression.Encode(delta, nil)
	if err != nil {
		return nil, rep, err
	}
	u.Payload = payload
	rep.PayloadBytes = len(payload)
	if err := u.Sign(s.Key); err != nil {
		return nil, rep, err
	}
	return u, rep, nil
}

// flipLabels returns l with wrong labels (a copy; l is not changed).
func flipLabels(l detector.Labeled, classes, benign int, supervised bool) detector.Labeled {
	out := detector.Labeled{X: l.X, Y: make([]int, len(l.Y))}
	attack := (benign + 1) % classes
	for i, y := range l.Y {
		switch {
		case supervised:
			out.Y[i] = (y + 1) % classes
		case y == benign:
			out.Y[i] = attack
		default:
			out.Y[i] = benign
		}
	}
	return out
}

// freeRide makes an update with no training behind it.
func freeRide(s federated.LocalStep, std float64) (*federated.Update, federated.LocalReport, error) {
	p := s.Task.Policy
	if err := p.Validate(); err != nil {
		return nil, federated.LocalReport{}, err
	}
	dim := len(s.Global.Model.Weights())
	delta := make([]float32, dim)
	rng := newRand(s.Seed ^ 0xf4ee)
	for i := range delta {
		delta[i] = float32(std * rng.NormFloat64())
	}
	rep := federated.LocalReport{Samples: FreeRiderClaim * max(s.Train.Len(), 1), RawBytes: 4 * dim, Accuracy: 0.9}
	eval := s.Valid
	if eval.Len() == 0 {
		eval = s.Train
	}
	if acc, err := federated.Accuracy(s.Global.Model, eval); err == nil {
		rep.Accuracy = acc
	}
	payload, err := p.Compression.Encode(delta, nil)
	if err != nil {
		return nil, rep, err
	}
	rep.PayloadBytes, rep.PreClipNorm = len(payload), federated.Norm(delta)
	u := &federated.Update{
		ChainID: s.Task.ChainID, Round: s.Task.Round, BaseModel: s.Task.BaseModel,
		Samples: uint64(rep.Samples), Dim: uint32(dim), Encoding: p.Compression.Encoding, Payload: payload,
		ReportedAccuracy: rep.Accuracy, DP: p.DP.SiteParams(),
	}
	if err := u.Sign(s.Key); err != nil {
		return nil, rep, err
	}
	return u, rep, nil
}
