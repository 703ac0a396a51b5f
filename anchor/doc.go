// Package anchor makes idsledger's records tamper-evident on an Ethereum
// registry, and checks them.
//
//   - Canonicalize, LeafHash, Root, Tree, InclusionProof, VerifyInclusion:
//     the RFC 8785 record encoding and the RFC 6962-shaped keccak Merkle
//     trees the AuditRegistry contract checks bit for bit.
//   - Worker: takes pending records from an Outbox in order, anchors them on
//     a Registry in batches (or one transaction per record), and records
//     where each landed; one worker at a time (a fenced lease), safe
//     against crashes. It re-checks confirmed batches against the chain and
//     anchors again those a reorg dropped.
//   - Verifier: Verify recomputes a record's leaf and checks its proof
//     against the root read from the registry on chain; Audit recomputes a
//     whole batch from the database. VerifyOffline does the same for a
//     third party holding only a record, its Proof and an RPC endpoint.
//
// The package is a library with no server or database code: storage
// implements Outbox and RecordSource on PostgreSQL, and anchor/chain
// implements Registry on an embedded dev chain, any JSON-RPC node, or the
// simulated backend.
package anchor
