package contracts

import (
	"math/big"

	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/params"
)

// OsakaDevChainConfig returns go-ethereum's developer chain configuration
// (params.AllDevChainProtocolChanges: chain id 1337, every fork from genesis)
// without the forks scheduled after Osaka, so that a dev chain or the
// simulated backend charges today's mainnet gas. go-ethereum v1.17.8 enables
// the experimental Amsterdam and Bogota forks on dev chains by default, and
// under them a fresh storage write costs about 3.5 times as much; gas figures
// taken on such a chain say nothing about mainnet.
//
// The result is a fresh copy that the caller may modify. Its LatestFork is
// Osaka at every timestamp. It is idsledger's only dev chain config: the
// embedded dev chain and the `geth init` genesis (anchor/chain.DevGenesis),
// the simulated backend of package chain and the gas tests here
// (SimulatedOsaka) all run under it, so the service and the gas figures
// cannot drift apart on the next go-ethereum upgrade. It lives here because
// this package imports nothing of idsledger's, so anchor/chain can import it.
func OsakaDevChainConfig() *params.ChainConfig {
	c := *params.AllDevChainProtocolChanges
	c.ChainID = new(big.Int).Set(params.AllDevChainProtocolChanges.ChainID)
	c.TerminalTotalDifficulty = new(big.Int).Set(params.AllDevChainProtocolChanges.TerminalTotalDifficulty)
	if c.BlobScheduleConfig != nil {
		blobs := *c.BlobScheduleConfig
		c.BlobScheduleConfig = &blobs
	}
	c.BPO1Time, c.BPO2Time, c.BPO3Time, c.BPO4Time, c.BPO5Time = nil, nil, nil, nil, nil
	c.AmsterdamTime, c.BogotaTime, c.UBTTime = nil, nil, nil
	return &c
}

// SimulatedOsaka is an option for simulated.NewBackend that runs the
// simulated chain under OsakaDevChainConfig instead of the default
// developer config (chain id 1337 either way).
func SimulatedOsaka(_ *node.Config, ethConf *ethconfig.Config) {
	ethConf.Genesis.Config = OsakaDevChainConfig()
}
