package chainhunt

import (
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/idsledger/idsledger/anchor"
)

// What serve passes to New satisfies the interfaces it takes: the node's
// client, and the anchoring worker as the Rechecker.
var (
	_ Client    = (*ethclient.Client)(nil)
	_ Rechecker = (*anchor.Worker)(nil)
	_ Scorer    = (*DetectorScorer)(nil)
)
