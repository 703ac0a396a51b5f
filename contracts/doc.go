// Package contracts owns idsledger's Solidity registry, AuditRegistry.sol,
// and how it is compiled and run in tests.
//
// `make contracts` compiles the source with solc-js at the version pinned in
// scripts/contracts.sh into build/AuditRegistry.abi and .bin; `make bindings`
// turns those into package bindings with abigen --v2 from go.mod's
// go-ethereum. All three are committed, and TestBuildOutputsUpToDate fails
// when any of them no longer matches the source.
//
// The contract's inclusion check agrees bit for bit with package anchor:
// leaf = keccak256(0x00 ‖ canonical record), node = keccak256(0x01 ‖ l ‖ r),
// RFC 6962 tree shape. The Go tests beside this file run every function of
// the contract on go-ethereum's simulated backend.
package contracts
