// Package contracts owns idsledger's Solidity contracts and how they are
// compiled and run in tests:
//
//   - AuditRegistry.sol anchors record batches, single records and global
//     model hashes, and checks inclusion proofs on chain.
//   - FederationRegistry.sol, deployed beside it, evaluates the federated
//     learning acceptance rule (docs/federated-rule.md) on the scores a
//     coordinator submits per round, keeps every site's reputation and
//     registers global models with the Merkle root of their accepted
//     updates. It is a separate contract so that AuditRegistry, and every
//     record a deployment anchored before it, stays as it was.
//   - TestToken.sol is a minimal ERC20 (mint by its owner) that `idsledger
//     bench chain-traffic` deploys so that generated traffic carries token
//     Transfer logs; the service itself never deploys it.
//
// `make contracts` compiles every .sol here with solc-js at the version
// pinned in scripts/contracts.sh into build/<Contract>.abi and .bin; `make
// bindings` turns those into package bindings (one Go file per contract)
// with abigen --v2 from go.mod's go-ethereum. All of them are committed, and
// TestBuildOutputsUpToDate and TestBindingsUpToDate fail when any no longer
// matches the source.
//
// The registry's inclusion check agrees bit for bit with package anchor:
// leaf = keccak256(0x00 ‖ canonical record), node = keccak256(0x01 ‖ l ‖ r),
// RFC 6962 tree shape. The Go tests beside this file run every function of
// both contracts on go-ethereum's simulated backend, under
// OsakaDevChainConfig, the one dev chain config the service uses too; the
// federation tests hold the contract's verdicts to a reference of the rule
// written from the spec.
package contracts
