// Package federated is idsledger's federated learning of the detector
// (FL-BCID): what a site sends, how its update is checked, scored, judged,
// combined and kept private. It is a library with no HTTP and no database:
// the coordinator (routes, PostgreSQL, fl-node, fl-sim) is built on top of
// it. It imports detector (model weights) and go-ethereum's crypto, nothing
// else of ours.
//
// # The parts, and what the coordinator does with each
//
//   - Update (update.go, sign.go): one site's delta Δ_i = w_i − w̄(t−1) (eq.
//     1), encoded, with its sample count |D_i|, its own accuracy and loss
//     (informational) and the DP it applied, signed with the site's
//     secp256k1 key (LoadOrCreateKey). UpdateHash covers every field but the
//     signature; the signature covers SigningDigest(chain, round, base
//     model, update hash, samples), whose byte layout is documented for
//     offline verifiers. Update.Validate returns the decoded delta or one
//     sentinel error per reason. The coordinator stores the update as
//     received: an auditor recomputes its hash and checks its signature.
//   - Round (round.go): plain, JSON-persisted round state with its
//     transitions: Open, Accept (one sentinel per refusal: wrong chain,
//     round or base model, not invited, duplicate or resubmitted, late,
//     full, off-policy, malformed, bad signature), ReadyToClose / Expired,
//     BeginClosing, Complete, Fail. The coordinator persists the round with
//     each accepted update before acknowledging it (see Round), serves
//     Round.Task to the sites, and counts bytes down with RecordDownload.
//   - Scores (score.go): Norm, the coordinate-wise Median as robust
//     reference w̄, divergence D_i = ‖w_i − w̄‖₂ (eq. 12), and a_i = 1 −
//     accuracy (eq. 4), measured by the coordinator on its own labelled
//     validation set (MeasureAccuracy) beside the site's claim. Measure
//     does a round; Measurement.Score is the one conversion to the
//     contract's integers (basis points, saturating micro-units).
//   - Rule (rule.go): Evaluate is a bit-exact mirror of the on-chain
//     acceptance rule S(w_i) (eq. 3: anomaly, divergence band median +
//     k·MAD + slack, norm, reputation) and reputation update R_i(t+1) =
//     R_i(t) + δ⁺·valid − δ⁻·invalid bounded to [0, RepMax] (eq. 11), as
//     docs/federated-rule.md fixes it; TrustWeights is T_i = R_i/Σ R_j (eq. 13).
//     The coordinator submits the Scores on chain and takes the chain's
//     verdicts; the mirror is the contract tests' oracle and fl-sim's rule.
//   - Aggregate (aggregate.go): FedAvg weighted by |D_i| (eq. 2), optionally
//     × T_i, coordinate-wise median, trimmed mean (β), Krum (f), Multi-Krum
//     (f, m), chosen per round (ParseRule), each refusing a round below its
//     precondition (ErrTooFew, e.g. Krum's n ≥ 2f+3). Deterministic: same
//     updates, same bits, in any order. The coordinator aggregates the
//     accepted updates only, then Apply gives w̄(t).
//   - Differential privacy (dp.go, accountant.go): ClipL2 and AddGaussian
//     at the site (eq. 7-8, DPLocal), or clipping at the sites and
//     CentralNoiseStd noise on the aggregate (DPCentral). The Accountant,
//     a port of Opacus' RDP analysis of the sampled Gaussian mechanism,
//     keeps each site's history; the coordinator asks CanTakePart before
//     inviting a site and Records each round a site took part in (local DP,
//     q = 1) or every round with the sampling rate q (central DP).
//   - Compression (compress.go): f32, q8 (8-bit, per-chunk scale), top-k
//     and top-k+q8, with ErrorFeedback the site keeps between rounds.
//     Round.BytesUp and BytesDown measure the traffic.
//   - The site (client.go): TrainUpdate trains a copy of the global model
//     on local rows (benign rows only for the autoencoder), and turns the
//     result into a signed, private, compressed Update. Both the BiLSTM
//     classifier and the autoencoder federate (Federable).
//
// # A round, from the coordinator's side
//
//	r.Open()                               // after CanTakePart for each invited site
//	delta, err := r.Accept(u, now)         // per update; persist, then ack
//	r.BeginClosing(now)                    // when r.ReadyToClose(now); r.Fail if r.Expired(now)
//	acc[i], _ = MeasureAccuracy(model, base, delta_i, validation)
//	ms, _ := Measure(sites, hashes, deltas, acc, reported)
//	verdicts := registry evaluates ms[i].Score() on chain (Evaluate mirrors it)
//	res, _ := Aggregate(r.Policy.Rule, accepted contributions with TrustWeights)
//	central DP: AddGaussian(res.Delta, CentralNoiseStd(σ, C, res.Weights), rng)
//	next, _ := Apply(base, res.Delta); r.Complete(newModelID); acct.Record(...)
//
// # How much noise
//
// ε at δ = 1e-5 (Opacus' orders). Local DP spends the whole mechanism each
// round a site takes part in (q = 1): σ = 1 over 50 rounds, the paper's
// setting, is ε ≈ 57 (19 over 10 rounds, 96 over 100), no meaningful
// guarantee. The σ that a target ε needs (NoiseMultiplier; the test
// TestSigmaForMeaningfulEpsilon holds this table to the accountant):
//
//	                 rounds   ε = 1    ε = 3    ε = 8    ε = 10
//	local, q = 1        10   12.793    4.723    2.017    1.675
//	                    50   28.613   10.562    4.509    3.745
//	                   100   40.469   14.934    6.377    5.296
//	central, q = 0.1    10    1.924    1.070    0.664    0.597
//	(10% of sites       50    3.186    1.453    0.857    0.770
//	 sampled a round)  100    4.280    1.796    0.993    0.887
//
// With local DP the noise std is σ·C on every site's delta, so a
// meaningful ε (σ of 4 to 30) drowns small federations' updates; central
// DP's noise on the mean is σ·C/n and sampling amplifies privacy, at the
// price of trusting the coordinator with clipped, unnoised deltas.
//
// The unit of privacy is the site's whole dataset (a site's update is
// present or not), not one flow record.
package federated
