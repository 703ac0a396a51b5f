package contracts_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/params/forks"

	"github.com/idsledger/idsledger/contracts"
)

func TestOsakaDevChainConfig(t *testing.T) {
	c := contracts.OsakaDevChainConfig()
	for _, at := range []uint64{0, 1, 1 << 40} {
		if got := c.LatestFork(at); got != forks.Osaka {
			t.Errorf("LatestFork(%d) = %v, want Osaka", at, got)
		}
	}
	if err := c.CheckConfigForkOrder(); err != nil {
		t.Fatal(err)
	}
	if c.ChainID.Cmp(params.AllDevChainProtocolChanges.ChainID) != 0 {
		t.Fatalf("chain id %v, want the dev chain's", c.ChainID)
	}
	// A fresh copy: changing it leaves go-ethereum's config alone.
	c.ChainID.SetInt64(99)
	c.OsakaTime = nil
	if params.AllDevChainProtocolChanges.ChainID.Int64() == 99 || params.AllDevChainProtocolChanges.OsakaTime == nil {
		t.Fatal("OsakaDevChainConfig shares memory with params.AllDevChainProtocolChanges")
	}
	// If go-ethereum stops enabling a later fork by default, this helper and
	// the gas figures taken with it need another look.
	if params.AllDevChainProtocolChanges.LatestFork(0) == forks.Osaka {
		t.Log("go-ethereum's dev config no longer goes past Osaka; OsakaDevChainConfig may be unnecessary")
	}
}
