package chain

import (
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"

	"github.com/idsledger/idsledger/contracts"
)

// DevGasLimit is the block gas limit of idsledger's dev chains: mainnet's
// 60M, so that a block holds as many per-record anchors as mainnet would.
const DevGasLimit = 60_000_000

// DevGenesis is the genesis `geth --dev` would make (precompiles and system
// contracts, faucet funded with nearly 2^256 wei), under
// contracts.OsakaDevChainConfig: idsledger's one dev chain config, which the
// simulated backends of the tests and gas figures use too, so that the
// service and the gas tests charge the same rules. Its JSON form is what the
// end-to-end test gives `geth init` before starting `geth --dev` on the same
// data directory.
func DevGenesis(gasLimit uint64, faucet common.Address) *core.Genesis {
	g := core.DeveloperGenesisBlock(gasLimit, &faucet)
	g.Config = contracts.OsakaDevChainConfig()
	return g
}

// gethDevAccount is the account `geth --dev` creates from its fixed
// developer key when its keystore is empty (cmd/utils.DeveloperKey).
var gethDevAccount = common.HexToAddress("0x71562b71999873DB5b286dF957af199Ec94617F7")

// GethDevGenesis is DevGenesis funding geth's developer account: the genesis
// to `geth init` before `geth --dev` (anchor/chain/testdata holds it as
// JSON), so that a real geth runs under the same rules as the embedded chain.
func GethDevGenesis() *core.Genesis {
	return DevGenesis(DevGasLimit, gethDevAccount)
}
