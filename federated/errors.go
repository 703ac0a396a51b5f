package federated

import "errors"

// Errors callers check with errors.Is. Every error this package returns
// about an update wraps exactly one of the update errors, with a message
// that says which field and why, so the coordinator can map each to one
// stable problem type.
var (
	// Update errors: the update itself is malformed (Update.Validate).

	// ErrShape: the delta does not have the model's number of coordinates,
	// or vectors that must be of one length are not.
	ErrShape = errors.New("federated: wrong shape")
	// ErrNonFinite: a delta coordinate (or a reported number) is NaN or ±Inf.
	ErrNonFinite = errors.New("federated: non-finite value")
	// ErrTooLarge: the payload or the sample count exceeds the Limits.
	ErrTooLarge = errors.New("federated: update too large")
	// ErrEncoding: unknown encoding, or a payload Encode could not have made.
	ErrEncoding = errors.New("federated: bad encoding")
	// ErrMalformed: another field is out of its domain (base model id not 64
	// hex digits, zero samples, accuracy outside [0,1], negative DP values).
	ErrMalformed = errors.New("federated: malformed update")
	// ErrBadSignature: the signature is malformed, or was not made by the
	// update's site over this exact update.
	ErrBadSignature = errors.New("federated: bad signature")

	// Round errors: the update is well formed but does not belong in the
	// round (Round.Accept).

	// ErrWrongChain: the update was signed for another chain id.
	ErrWrongChain = errors.New("federated: wrong chain id")
	// ErrWrongRound: the update is for another round (late or replayed).
	ErrWrongRound = errors.New("federated: wrong round")
	// ErrWrongBase: the update was trained from another global model.
	ErrWrongBase = errors.New("federated: wrong base model")
	// ErrNotEnrolled: the site is not one of the round's sites (unknown,
	// not enrolled, not sampled, or out of privacy budget).
	ErrNotEnrolled = errors.New("federated: site not in round")
	// ErrDuplicate: the round already holds another update of this site.
	ErrDuplicate = errors.New("federated: duplicate update")
	// ErrResubmitted: the round already holds this very update (same
	// UpdateHash): a retry after a lost acknowledgement. Callers answer it as
	// a success.
	ErrResubmitted = errors.New("federated: update already accepted")
	// ErrLate: the round's deadline has passed.
	ErrLate = errors.New("federated: update after the deadline")
	// ErrRoundClosed: the round no longer takes updates (closing, closed or
	// failed), or a state transition is not allowed from its state.
	ErrRoundClosed = errors.New("federated: round not open")
	// ErrRoundFull: the round has its maximum number of updates.
	ErrRoundFull = errors.New("federated: round full")
	// ErrPolicy: a policy is invalid, or an update was not made the way the
	// round's policy asks (encoding, DP parameters).
	ErrPolicy = errors.New("federated: policy")
	// ErrNotReady: the round cannot close yet (too few updates before the
	// deadline).
	ErrNotReady = errors.New("federated: round not ready to close")

	// Aggregation and rule errors.

	// ErrTooFew: fewer updates than the aggregation rule needs.
	ErrTooFew = errors.New("federated: too few updates for the rule")
	// ErrNoWeight: the aggregation weights sum to zero.
	ErrNoWeight = errors.New("federated: aggregation weights sum to zero")
	// ErrRule: an aggregation rule string or its parameters are invalid.
	ErrRule = errors.New("federated: invalid aggregation rule")
	// ErrRoundSize: the acceptance rule takes 1 to MaxRoundUpdates scores.
	ErrRoundSize = errors.New("federated: bad number of scores")
	// ErrThresholds: thresholds break the contract setter's constraints.
	ErrThresholds = errors.New("federated: invalid thresholds")

	// Privacy and keys.

	// ErrBudget: no noise multiplier reaches the privacy target, or a
	// budget is invalid.
	ErrBudget = errors.New("federated: privacy budget")
	// ErrKeyFile: the site key file is unreadable, malformed, or readable by
	// group or others.
	ErrKeyFile = errors.New("federated: site key file")
	// ErrNotFederable: the model kind's weights cannot be averaged.
	ErrNotFederable = errors.New("federated: model kind cannot federate")
)
