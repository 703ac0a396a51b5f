// Package coordinator runs idsledger's federation: the service side of
// federated learning, built on package federated (the rules, privacy,
// aggregation and signed updates) with the HTTP routes in api and the
// PostgreSQL side in storage.
//
// A round goes like this. An admin enrolls each site (its secp256k1
// address, bound to its fl-node API key) in the FederationRegistry contract
// and opens a round (Open): its base model, its policy (local training,
// aggregation rule, privacy, compression) and its invited sites. Each
// site's fl-node fetches the round (Task), downloads the base model, trains
// on its own data and submits a signed update (Submit). The coordinator
// checks the update, stores it with its model_update record and only then
// acknowledges it. When the round is ready (every invited site in, or the
// deadline passed with enough updates), Run closes it: it measures each
// update on the coordinator's own validation set (anomaly a_i = 1 −
// accuracy), its norm and its divergence from the round's median, has the
// contract judge these scores (the acceptance rule S(w_i) and reputations
// run on chain), aggregates the accepted updates with the round's rule into
// the next global model, and stores the round's judgement (an fl_round
// record), the model and its global_model record in one transaction. Then
// the model is registered in the contract with the Merkle root of the
// accepted update records, and, when the round's policy asks and the model
// does not lose on the validation set, promoted to score flows.
//
// Every record the coordinator makes is anchored like an alert, so an
// auditor can follow an alert to its model, the model to its round and the
// round to every update it judged, with each site's signature, and check
// it all against the chain.
//
// Crash safety: the Store's methods are atomic, an update is acknowledged
// only once stored, and closing a round can be repeated (the contract
// answers a round it already judged with its judgement). A coordinator
// killed mid-round restarts, finds the round with every acknowledged
// update, and finishes it.
package coordinator
