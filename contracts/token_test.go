package contracts_test

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/idsledger/idsledger/bindings"
)

// TestTestToken runs TestToken's ERC20 functions and events on the
// simulated backend: mint by the owner only, transfer, approve and
// transferFrom with their custom errors, and the Transfer and Approval logs.
func TestTestToken(t *testing.T) {
	h := newHarness(t)
	tok := bindings.NewTestToken()
	addr, tx, err := bind.DeployContract(h.owner.opts, common.FromHex(bindings.TestTokenMetaData.Bin), h.client,
		tok.PackConstructor("Traffic Token", "TT"))
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if r := h.mine(tx); r.Status != types.ReceiptStatusSuccessful {
		t.Fatal("deploy failed")
	}
	c := tok.Instance(h.client, addr)
	send := func(from *account, data []byte) (*types.Receipt, error) {
		t.Helper()
		return h.sendTo(c, from, data)
	}
	balance := func(a common.Address) int64 {
		t.Helper()
		b, err := bind.Call(c, nil, tok.PackBalanceOf(a), tok.UnpackBalanceOf)
		if err != nil {
			t.Fatal(err)
		}
		return b.Int64()
	}

	if name, err := bind.Call(c, nil, tok.PackName(), tok.UnpackName); err != nil || name != "Traffic Token" {
		t.Errorf("name = %q, %v", name, err)
	}
	if sym, err := bind.Call(c, nil, tok.PackSymbol(), tok.UnpackSymbol); err != nil || sym != "TT" {
		t.Errorf("symbol = %q, %v", sym, err)
	}
	if dec, err := bind.Call(c, nil, tok.PackDecimals(), tok.UnpackDecimals); err != nil || dec != 18 {
		t.Errorf("decimals = %d, %v", dec, err)
	}

	// Only the owner mints.
	_, err = send(h.alice, tok.PackMint(h.alice.addr, big.NewInt(5)))
	if e, _ := tok.UnpackError(revertData(err)); e == nil {
		t.Fatalf("mint by a non-owner: want NotOwner, got %v", err)
	} else if no, ok := e.(*bindings.TestTokenNotOwner); !ok || no.Caller != h.alice.addr {
		t.Fatalf("mint by a non-owner: got %#v", e)
	}
	r, err := send(h.owner, tok.PackMint(h.alice.addr, big.NewInt(1000)))
	if err != nil {
		t.Fatal(err)
	}
	ev := transferEvents(t, tok, r)
	if len(ev) != 1 || ev[0].From != (common.Address{}) || ev[0].To != h.alice.addr || ev[0].Value.Int64() != 1000 {
		t.Fatalf("mint Transfer events = %+v", ev)
	}
	if s, err := bind.Call(c, nil, tok.PackTotalSupply(), tok.UnpackTotalSupply); err != nil || s.Int64() != 1000 {
		t.Fatalf("totalSupply = %v, %v", s, err)
	}

	// transfer moves tokens and logs it; more than the balance reverts.
	r, err = send(h.alice, tok.PackTransfer(h.bob.addr, big.NewInt(300)))
	if err != nil {
		t.Fatal(err)
	}
	if ev := transferEvents(t, tok, r); len(ev) != 1 || ev[0].From != h.alice.addr || ev[0].To != h.bob.addr || ev[0].Value.Int64() != 300 {
		t.Fatalf("transfer events = %+v", ev)
	}
	if a, b := balance(h.alice.addr), balance(h.bob.addr); a != 700 || b != 300 {
		t.Fatalf("balances alice %d bob %d, want 700 300", a, b)
	}
	_, err = send(h.bob, tok.PackTransfer(h.alice.addr, big.NewInt(301)))
	if e, _ := tok.UnpackError(revertData(err)); e == nil {
		t.Fatalf("overdraft: want InsufficientBalance, got %v", err)
	} else if ib, ok := e.(*bindings.TestTokenInsufficientBalance); !ok || ib.Balance.Int64() != 300 || ib.Needed.Int64() != 301 {
		t.Fatalf("overdraft: got %#v", e)
	}

	// approve + transferFrom spends the allowance; beyond it reverts.
	r, err = send(h.alice, tok.PackApprove(h.bob.addr, big.NewInt(100)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Logs) != 1 {
		t.Fatalf("approve logged %d events", len(r.Logs))
	}
	ap, err := tok.UnpackApprovalEvent(r.Logs[0])
	if err != nil || ap.Owner != h.alice.addr || ap.Spender != h.bob.addr || ap.Value.Int64() != 100 {
		t.Fatalf("Approval = %+v, %v", ap, err)
	}
	if _, err := send(h.bob, tok.PackTransferFrom(h.alice.addr, h.owner.addr, big.NewInt(60))); err != nil {
		t.Fatal(err)
	}
	if al, err := bind.Call(c, nil, tok.PackAllowance(h.alice.addr, h.bob.addr), tok.UnpackAllowance); err != nil || al.Int64() != 40 {
		t.Fatalf("allowance after transferFrom = %v, %v", al, err)
	}
	_, err = send(h.bob, tok.PackTransferFrom(h.alice.addr, h.owner.addr, big.NewInt(41)))
	if e, _ := tok.UnpackError(revertData(err)); e == nil {
		t.Fatalf("beyond allowance: want InsufficientAllowance, got %v", err)
	} else if _, ok := e.(*bindings.TestTokenInsufficientAllowance); !ok {
		t.Fatalf("beyond allowance: got %#v", e)
	}
	if a, o := balance(h.alice.addr), balance(h.owner.addr); a != 640 || o != 60 {
		t.Fatalf("balances alice %d owner %d, want 640 60", a, o)
	}
}

// transferEvents decodes the Transfer logs of r.
func transferEvents(t *testing.T, tok *bindings.TestToken, r *types.Receipt) []*bindings.TestTokenTransfer {
	t.Helper()
	var out []*bindings.TestTokenTransfer
	for _, l := range r.Logs {
		ev, err := tok.UnpackTransferEvent(l)
		if err != nil {
			t.Fatalf("log %d: %v", l.Index, err)
		}
		out = append(out, ev)
	}
	return out
}
