package contracts_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/idsledger/idsledger/bindings"
	"github.com/idsledger/idsledger/contracts"
)

// account is a funded key with its transactor.
type account struct {
	key  *ecdsa.PrivateKey
	addr common.Address
	opts *bind.TransactOpts
}

func newAccount(t testing.TB, seed string) *account {
	key, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return &account{
		key:  key,
		addr: crypto.PubkeyToAddress(key.PublicKey),
		opts: bind.NewKeyedTransactor(key, params.AllDevChainProtocolChanges.ChainID),
	}
}

// harness is a simulated chain with AuditRegistry deployed by owner.
type harness struct {
	t        testing.TB
	sim      *simulated.Backend
	client   simulated.Client
	reg      *bindings.AuditRegistry
	contract *bind.BoundContract
	addr     common.Address
	owner    *account // deployer: owner and first anchorer
	alice    *account // funded, no role until granted
	bob      *account // funded, no role until granted
}

type (
	nodeConfig = node.Config
	ethConfig  = ethconfig.Config
	simOption  = func(*nodeConfig, *ethConfig)
)

// newHarness deploys the registry on a simulated chain under Osaka rules
// (contracts.SimulatedOsaka) unless other options are given.
func newHarness(t testing.TB, options ...simOption) *harness {
	t.Helper()
	if len(options) == 0 {
		options = []simOption{contracts.SimulatedOsaka}
	}
	h := &harness{t: t, owner: newAccount(t, "owner"), alice: newAccount(t, "alice"), bob: newAccount(t, "bob")}
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(params.Ether))
	alloc := types.GenesisAlloc{}
	for _, a := range []*account{h.owner, h.alice, h.bob} {
		alloc[a.addr] = types.Account{Balance: funds}
	}
	h.sim = simulated.NewBackend(alloc, options...)
	t.Cleanup(func() { h.sim.Close() })
	h.client = h.sim.Client()
	h.reg = bindings.NewAuditRegistry()

	addr, tx, err := bind.DeployContract(h.owner.opts, common.FromHex(bindings.AuditRegistryMetaData.Bin), h.client, nil)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	h.mine(tx)
	h.addr = addr
	h.contract = h.reg.Instance(h.client, addr)
	return h
}

// mine commits blocks until tx has a receipt. A commit can miss a
// transaction still entering the pool, so it retries a few times.
func (h *harness) mine(tx *types.Transaction) *types.Receipt {
	h.t.Helper()
	for range 20 {
		h.sim.Commit()
		r, err := h.client.TransactionReceipt(context.Background(), tx.Hash())
		if err == nil {
			return r
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatalf("transaction %s never mined", tx.Hash())
	return nil
}

// send sends data from an account to the registry and mines it. A revert
// during gas estimation is returned as the error; a mined transaction must
// succeed.
func (h *harness) send(from *account, data []byte) (*types.Receipt, error) {
	h.t.Helper()
	return h.sendTo(h.contract, from, data)
}

// sendTo is send to contract c.
func (h *harness) sendTo(c *bind.BoundContract, from *account, data []byte) (*types.Receipt, error) {
	h.t.Helper()
	tx, err := bind.Transact(c, from.opts, data)
	if err != nil {
		return nil, err
	}
	r := h.mine(tx)
	if r.Status != types.ReceiptStatusSuccessful {
		h.t.Fatalf("transaction %s failed without a revert at estimation", tx.Hash())
	}
	return r, nil
}

func (h *harness) mustSend(from *account, data []byte) *types.Receipt {
	h.t.Helper()
	r, err := h.send(from, data)
	if err != nil {
		h.t.Fatalf("transaction reverted: %v (%T)", err, h.revert(err))
	}
	return r
}

// revert decodes the registry's custom error carried by err, or returns nil.
func (h *harness) revert(err error) any {
	data := revertData(err)
	if data == nil {
		return nil
	}
	decoded, uerr := h.reg.UnpackError(data)
	if uerr != nil {
		return nil
	}
	return decoded
}

// revertData is the revert data carried by err (selector first), or nil.
func revertData(err error) []byte {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil
	}
	s, ok := de.ErrorData().(string)
	if !ok {
		return nil
	}
	data := common.FromHex(s)
	if len(data) < 4 {
		return nil
	}
	return data
}

func (h *harness) block(r *types.Receipt) *types.Header {
	h.t.Helper()
	hdr, err := h.client.HeaderByNumber(context.Background(), r.BlockNumber)
	if err != nil {
		h.t.Fatal(err)
	}
	return hdr
}

func (h *harness) getBatch(id uint64) bindings.AuditRegistryBatch {
	h.t.Helper()
	b, err := bind.Call(h.contract, nil, h.reg.PackGetBatch(id), h.reg.UnpackGetBatch)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) getRecord(id [16]byte) bindings.AuditRegistryRecordAnchor {
	h.t.Helper()
	r, err := bind.Call(h.contract, nil, h.reg.PackGetRecord(id), h.reg.UnpackGetRecord)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) getModel(version uint64) bindings.AuditRegistryModel {
	h.t.Helper()
	m, err := bind.Call(h.contract, nil, h.reg.PackGetModel(version), h.reg.UnpackGetModel)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

func (h *harness) isAnchorer(a common.Address) bool {
	h.t.Helper()
	ok, err := bind.Call(h.contract, nil, h.reg.PackIsAnchorer(a), h.reg.UnpackIsAnchorer)
	if err != nil {
		h.t.Fatal(err)
	}
	return ok
}
