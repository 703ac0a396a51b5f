package chaintraffic

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// ManifestVersion is the version of the manifest format written by this
// package; a reader should refuse another.
const ManifestVersion = 1

// Manifest is the record of one run of Generate: every transaction it sent,
// grouped as setup, normal activity and injected anomalies, with the
// accounts behind each. It is the ground truth against which a chain hunter
// is scored: for each pattern, the injected transactions and the anomalous
// accounts are the positives, the normal accounts and normal transactions
// the negatives.
type Manifest struct {
	// Version is ManifestVersion.
	Version int `json:"version"`
	// Seed is the seed the run was generated from.
	Seed int64 `json:"seed"`
	// ChainID is the chain the transactions were sent to.
	ChainID uint64 `json:"chain_id"`
	// Funder is the address of the key that paid for everything. It sent
	// the setup transactions and, as the registry owner, the role changes.
	Funder common.Address `json:"funder"`
	// Token is the TestToken the run deployed for its ERC20 transfers.
	Token common.Address `json:"token"`
	// Registry is the AuditRegistry the registry patterns targeted (zero
	// when none was injected).
	Registry common.Address `json:"registry,omitempty"`
	// RegistryDeployed says the run deployed Registry itself because none
	// was given; a hunter watching the service's own registry will not see
	// the registry patterns then.
	RegistryDeployed bool `json:"registry_deployed,omitempty"`
	// FirstBlock and LastBlock bound the blocks holding the run's
	// transactions (setup included).
	FirstBlock uint64 `json:"first_block"`
	LastBlock  uint64 `json:"last_block"`
	// Started and Finished are the run's wall-clock bounds.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// NormalAccounts are the accounts that took part in normal activity
	// only: the negatives of every pattern. (Victims of phishing are among
	// them: they behave normally, they were only deceived.)
	NormalAccounts []common.Address `json:"normal_accounts"`
	// Setup holds the funding, token deployment, minting and (when the run
	// deployed one) registry deployment transactions, all from Funder.
	Setup []Tx `json:"setup"`
	// Normal holds the normal activity, in the order it was sent: ether
	// and token transfers and contract creations among the normal accounts
	// (and a draining account before it drains, see Drain).
	Normal []Tx `json:"normal"`
	// Injections holds one entry per requested pattern, in the order they
	// were injected.
	Injections []Injection `json:"injections"`
}

// Injection is one injected anomaly.
type Injection struct {
	// Pattern names it.
	Pattern Pattern `json:"pattern"`
	// Anomalous are the accounts a hunter should flag for it: the draining
	// account, the flooding account, the phishing account, the account
	// calling the registry without the role, the accounts that gained a
	// registry role, the foreign anchorer.
	Anomalous []common.Address `json:"anomalous"`
	// Counterparties are the other accounts the pattern involved: the fresh
	// accounts a drain fans out to, the flood's sinks, the phishing victims
	// (normal accounts) and the account it forwards to, the registry owner.
	// They are neither positives nor negatives of the pattern.
	Counterparties []common.Address `json:"counterparties,omitempty"`
	// Transactions are the transactions that make up the anomaly: the
	// positives for transaction-level rules (the registry patterns above
	// all). A reverted one has Status 0.
	Transactions []Tx `json:"transactions"`
	// FirstBlock and LastBlock bound the blocks of Transactions.
	FirstBlock uint64 `json:"first_block,omitempty"`
	LastBlock  uint64 `json:"last_block,omitempty"`
	// ForeignBatches are the batches anchored under the registry by an
	// account other than the service (registry_foreign_batch).
	ForeignBatches []ForeignBatch `json:"foreign_batches,omitempty"`
	// Skipped, when set, says why the pattern could not be injected (for
	// example: the funder is not the registry owner); Transactions is
	// empty then.
	Skipped string `json:"skipped,omitempty"`
}

// ForeignBatch is a batch anchored by an account the database does not
// know: an id far above any the service numbers, a random root.
type ForeignBatch struct {
	ID        uint64      `json:"id"`
	Root      common.Hash `json:"root"`
	LeafCount uint32      `json:"leaf_count"`
	Kind      uint8       `json:"kind"`
}

// TxKind says what a manifest transaction does.
type TxKind string

// The kinds of transaction in a manifest.
const (
	KindFund              TxKind = "fund"               // ether from the funder to a generated account
	KindDeployToken       TxKind = "deploy_token"       // the run's TestToken
	KindDeployRegistry    TxKind = "deploy_registry"    // an AuditRegistry, when none was given
	KindMint              TxKind = "mint"               // TestToken.mint by the funder
	KindEther             TxKind = "ether"              // a plain ether transfer
	KindTokenTransfer     TxKind = "token_transfer"     // TestToken.transfer (To is the token)
	KindApprove           TxKind = "approve"            // TestToken.approve: TokenSpender may move TokenValue
	KindTransferFrom      TxKind = "transfer_from"      // TestToken.transferFrom: From spends TokenFrom's allowance
	KindCreate            TxKind = "create"             // a contract creation by a normal account
	KindAnchor            TxKind = "anchor"             // AuditRegistry.anchor
	KindAnchorBatch       TxKind = "anchor_batch"       // AuditRegistry.anchorBatch
	KindGrantAnchorer     TxKind = "grant_anchorer"     // AuditRegistry.grantAnchorer
	KindRevokeAnchorer    TxKind = "revoke_anchorer"    // AuditRegistry.revokeAnchorer
	KindTransferOwnership TxKind = "transfer_ownership" // AuditRegistry.transferOwnership
)

// Tx is one transaction as sent and mined.
type Tx struct {
	// Hash identifies it on chain.
	Hash common.Hash `json:"hash"`
	// Block is the number of the block it was mined in.
	Block uint64 `json:"block"`
	// Kind says what it does.
	Kind TxKind `json:"kind"`
	// From is its sender.
	From common.Address `json:"from"`
	// To is its recipient: the token for token transfers, the registry for
	// registry calls, nil for a contract creation.
	To *common.Address `json:"to"`
	// Value is the ether it carried, in wei.
	Value *big.Int `json:"value"`
	// TokenFrom, TokenTo and TokenValue are the Transfer log of a token
	// transfer, transferFrom or mint: whose tokens moved (TokenFrom; nil
	// means From, and the zero address for a mint), to whom, and how many
	// in the token's base units. For an approval, TokenValue is the
	// allowance given to TokenSpender.
	TokenFrom    *common.Address `json:"token_from,omitempty"`
	TokenTo      *common.Address `json:"token_to,omitempty"`
	TokenValue   *big.Int        `json:"token_value,omitempty"`
	TokenSpender *common.Address `json:"token_spender,omitempty"`
	// Contract is the address a creation made.
	Contract *common.Address `json:"contract,omitempty"`
	// Status is the receipt status: 1 succeeded, 0 reverted.
	Status uint64 `json:"status"`
	// GasUsed is the gas the receipt reports.
	GasUsed uint64 `json:"gas_used"`
}

// Injection returns the injection of pattern p, or nil if the run had
// none.
func (m *Manifest) Injection(p Pattern) *Injection {
	for i := range m.Injections {
		if m.Injections[i].Pattern == p {
			return &m.Injections[i]
		}
	}
	return nil
}

// Transactions returns every transaction of the manifest: setup, normal,
// then each injection's.
func (m *Manifest) Transactions() []Tx {
	all := append(append([]Tx(nil), m.Setup...), m.Normal...)
	for _, in := range m.Injections {
		all = append(all, in.Transactions...)
	}
	return all
}

// WriteFile writes m as indented JSON to path (atomically: a temporary
// file renamed into place).
func (m *Manifest) WriteFile(path string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

// ReadManifest reads a manifest written by WriteFile.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	if m.Version != ManifestVersion {
		return nil, fmt.Errorf("manifest %s: version %d, this reader knows %d", path, m.Version, ManifestVersion)
	}
	return &m, nil
}
