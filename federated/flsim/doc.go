// Package flsim simulates a federation to measure federated learning of
// the detector: N sites (some of them attacking) against a real
// coordinator, over its real HTTP API, round after round, each new global
// model measured on held-out test flows and set against a centralized
// model trained on the union of the sites' data with the same epoch
// budget.
//
// The building blocks stand alone: Partition splits labelled flows
// between sites (iid, dirichlet:α, by-dst); Attack wraps the site's
// training into a malicious one whose updates are still properly signed;
// Evaluate and MajorityBaseline measure a model on test flows;
// Centralized trains the baseline; WriteReport draws the curves.
//
// Run puts them together. The coordinator is behind the Coordinator
// interface (enroll a site, open a round, await its judgement, read a
// model): Start makes one from a Setup (the coordinator's validation
// flows and the first global model). The idsledger binary plugs in the
// service itself (PostgreSQL on a scratch database, the embedded chain,
// the API routes); the tests plug in a coordinator over in-memory fakes.
// Each site is a flnode.Node with its own data directory and key, so the
// simulation runs the very code a real site runs.
package flsim
