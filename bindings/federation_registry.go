// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// FederationRegistryGlobalModel is an auto generated low-level Go binding around an user-defined struct.
type FederationRegistryGlobalModel struct {
	ModelHash   [32]byte
	UpdatesRoot [32]byte
	Round       uint64
	BlockNumber uint64
	Timestamp   uint64
	Submitter   common.Address
}

// FederationRegistryRoundSummary is an auto generated low-level Go binding around an user-defined struct.
type FederationRegistryRoundSummary struct {
	Updates          uint16
	Accepted         uint16
	DivergenceMedian uint32
	DivergenceBand   uint64
	BlockNumber      uint64
	Timestamp        uint64
}

// FederationRegistrySite is an auto generated low-level Go binding around an user-defined struct.
type FederationRegistrySite struct {
	Reputation uint16
	Enrolled   bool
	Known      bool
	LastRound  uint64
}

// FederationRegistryThresholds is an auto generated low-level Go binding around an user-defined struct.
type FederationRegistryThresholds struct {
	MaxAnomalyBp  uint16
	MadK          uint16
	DivSlack      uint32
	MaxNorm       uint32
	MinReputation uint16
	RepInit       uint16
	RepMax        uint16
	DeltaPlus     uint16
	DeltaMinus    uint16
}

// FederationRegistryMetaData contains all meta data concerning the FederationRegistry contract.
var FederationRegistryMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"CoordinatorAlreadyGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"CoordinatorNotGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"DuplicateSite\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"EmptyRound\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"updates\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"updateHashes\",\"type\":\"uint256\"}],\"name\":\"LengthMismatch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint16\",\"name\":\"maxAnomalyBp\",\"type\":\"uint16\"}],\"name\":\"MaxAnomalyAboveScale\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"middles\",\"type\":\"uint256\"}],\"name\":\"MiddlesMismatch\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint16\",\"name\":\"minReputation\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"}],\"name\":\"MinReputationAboveRepMax\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"}],\"name\":\"ModelAlreadyRegistered\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotCoordinator\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotOwner\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint16\",\"name\":\"repInit\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"}],\"name\":\"RepInitAboveRepMax\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"ReservedBitsSet\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"name\":\"RoundAlreadySubmitted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"name\":\"RoundNotEvaluated\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"lastRound\",\"type\":\"uint64\"}],\"name\":\"RoundOutOfOrder\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"SiteAlreadyEnrolled\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"SiteNotEnrolled\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"count\",\"type\":\"uint256\"}],\"name\":\"TooManyUpdates\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroHash\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroModelVersion\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRound\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"ZeroUpdateHash\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"name\":\"ZeroUpdatesRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"id\",\"type\":\"uint32\"}],\"name\":\"CoordinatorGranted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"CoordinatorRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"},{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"updatesRoot\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"name\":\"GlobalModelRegistered\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferred\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"uint16\",\"name\":\"updates\",\"type\":\"uint16\"},{\"indexed\":false,\"internalType\":\"uint16\",\"name\":\"accepted\",\"type\":\"uint16\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"divergenceMedian\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"divergenceBand\",\"type\":\"uint32\"}],\"name\":\"RoundEvaluated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"SiteEnrolled\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"SiteRemoved\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"components\":[{\"internalType\":\"uint16\",\"name\":\"maxAnomalyBp\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"madK\",\"type\":\"uint16\"},{\"internalType\":\"uint32\",\"name\":\"divSlack\",\"type\":\"uint32\"},{\"internalType\":\"uint32\",\"name\":\"maxNorm\",\"type\":\"uint32\"},{\"internalType\":\"uint16\",\"name\":\"minReputation\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repInit\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaPlus\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaMinus\",\"type\":\"uint16\"}],\"indexed\":false,\"internalType\":\"structFederationRegistry.Thresholds\",\"name\":\"previous\",\"type\":\"tuple\"},{\"components\":[{\"internalType\":\"uint16\",\"name\":\"maxAnomalyBp\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"madK\",\"type\":\"uint16\"},{\"internalType\":\"uint32\",\"name\":\"divSlack\",\"type\":\"uint32\"},{\"internalType\":\"uint32\",\"name\":\"maxNorm\",\"type\":\"uint32\"},{\"internalType\":\"uint16\",\"name\":\"minReputation\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repInit\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaPlus\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaMinus\",\"type\":\"uint16\"}],\"indexed\":false,\"internalType\":\"structFederationRegistry.Thresholds\",\"name\":\"current\",\"type\":\"tuple\"}],\"name\":\"ThresholdsChanged\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"updateHash\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"reasons\",\"type\":\"uint8\"},{\"indexed\":false,\"internalType\":\"uint16\",\"name\":\"reputation\",\"type\":\"uint16\"}],\"name\":\"Verdict\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"enrollSite\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"}],\"name\":\"getGlobalModel\",\"outputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"updatesRoot\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"internalType\":\"structFederationRegistry.GlobalModel\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"name\":\"getRound\",\"outputs\":[{\"components\":[{\"internalType\":\"uint16\",\"name\":\"updates\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"accepted\",\"type\":\"uint16\"},{\"internalType\":\"uint32\",\"name\":\"divergenceMedian\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"divergenceBand\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"}],\"internalType\":\"structFederationRegistry.RoundSummary\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"getSite\",\"outputs\":[{\"components\":[{\"internalType\":\"uint16\",\"name\":\"reputation\",\"type\":\"uint16\"},{\"internalType\":\"bool\",\"name\":\"enrolled\",\"type\":\"bool\"},{\"internalType\":\"bool\",\"name\":\"known\",\"type\":\"bool\"},{\"internalType\":\"uint64\",\"name\":\"lastRound\",\"type\":\"uint64\"}],\"internalType\":\"structFederationRegistry.Site\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"grantCoordinator\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"isCoordinator\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"isSite\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"lastRound\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"updatesRoot\",\"type\":\"bytes32\"}],\"name\":\"registerGlobalModel\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"removeSite\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"site\",\"type\":\"address\"}],\"name\":\"reputation\",\"outputs\":[{\"internalType\":\"uint16\",\"name\":\"\",\"type\":\"uint16\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"revokeCoordinator\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"uint16\",\"name\":\"maxAnomalyBp\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"madK\",\"type\":\"uint16\"},{\"internalType\":\"uint32\",\"name\":\"divSlack\",\"type\":\"uint32\"},{\"internalType\":\"uint32\",\"name\":\"maxNorm\",\"type\":\"uint32\"},{\"internalType\":\"uint16\",\"name\":\"minReputation\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repInit\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaPlus\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaMinus\",\"type\":\"uint16\"}],\"internalType\":\"structFederationRegistry.Thresholds\",\"name\":\"t\",\"type\":\"tuple\"}],\"name\":\"setThresholds\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"uint256\",\"name\":\"middles\",\"type\":\"uint256\"},{\"internalType\":\"uint256[]\",\"name\":\"updates\",\"type\":\"uint256[]\"},{\"internalType\":\"bytes32[]\",\"name\":\"updateHashes\",\"type\":\"bytes32[]\"}],\"name\":\"submitRound\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"thresholds\",\"outputs\":[{\"components\":[{\"internalType\":\"uint16\",\"name\":\"maxAnomalyBp\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"madK\",\"type\":\"uint16\"},{\"internalType\":\"uint32\",\"name\":\"divSlack\",\"type\":\"uint32\"},{\"internalType\":\"uint32\",\"name\":\"maxNorm\",\"type\":\"uint32\"},{\"internalType\":\"uint16\",\"name\":\"minReputation\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repInit\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"repMax\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaPlus\",\"type\":\"uint16\"},{\"internalType\":\"uint16\",\"name\":\"deltaMinus\",\"type\":\"uint16\"}],\"internalType\":\"structFederationRegistry.Thresholds\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"transferOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	ID:  "FederationRegistry",
	Bin: "0x608060405234801561000f575f5ffd5b505f80546001600160a01b0319163390811782556040519091907f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0908290a36100573361025b565b6040805161012081018252611388815261012c6020820152612710918101919091525f6060820152601460808201819052603260a0830152606460c0830152600560e08301526101008201527faa9dd7ea7f82673a3b0a3b034787c70216e3db1d1d5bf1b70892c5293a94c4906101a360408051610120810182525f80825260208201819052918101829052606081018290526080810182905260a0810182905260c0810182905260e081018290526101008101919091525f60015490506040518061012001604052808261ffff168152602001601083901c61ffff168152602001602083901c63ffffffff168152602001604083901c63ffffffff168152602001606083901c61ffff168152602001607083901c61ffff168152602001608083901c61ffff168152602001609083901c61ffff16815260200160a083901c61ffff1681525091505090565b826040516101b292919061040d565b60405180910390a1610255815f60b0600154901c905060b081901b60a083610100015161ffff16901b60908460e0015161ffff16901b60808560c0015161ffff16901b60708660a0015161ffff16901b6060876080015161ffff16901b6040886060015163ffffffff16901b6020896040015163ffffffff16901b60108a6020015161ffff16901b8a5f015161ffff161717171717171717176001819055505050565b50610461565b6001600160a01b0381165f9081526002602052604081208054909163ffffffff909116908190036102f8575f80546014906102a290600160a01b900463ffffffff16610431565b825463ffffffff8083166101009490940a84810291021990911617909255835463ffffffff1916811784555f90815260036020526040902080546001600160a01b0386166001600160a01b031990911617905590505b815460ff60201b191664010000000017825560405163ffffffff821681526001600160a01b038416907f9cb027e8575eafeffa52358d66c1a7b0cc3b23722c3884c06390d34d18c5a82b9060200160405180910390a2505050565b61ffff815116825261ffff60208201511660208301526040810151610380604084018263ffffffff169052565b506060810151610398606084018263ffffffff169052565b5060808101516103ae608084018261ffff169052565b5060a08101516103c460a084018261ffff169052565b5060c08101516103da60c084018261ffff169052565b5060e08101516103f060e084018261ffff169052565b5061010081015161040861010084018261ffff169052565b505050565b610240810161041c8285610353565b61042a610120830184610353565b9392505050565b5f63ffffffff821663ffffffff810361045857634e487b7160e01b5f52601160045260245ffd5b60010192915050565b611c338061046e5f395ff3fe608060405234801561000f575f5ffd5b5060043610610106575f3560e01c806382bc07e61161009e578063b9f794511161006e578063b9f794511461052f578063cda43b3a1461056a578063edd8fc461461057f578063f2fde38b14610592578063fe042ae0146105a5575f5ffd5b806382bc07e61461048657806383e551fd146104a45780638da5cb5b146104e3578063aec32099146104fd575f5ffd5b80635b610667116100d95780635b6106671461037f57806362ff53c714610392578063709b14571461046057806382320aa114610473575f5ffd5b80630625d9d81461010a57806312feeedb14610244578063144d0229146102595780631aa69e0d1461036c575b5f5ffd5b6101cd61011836600461174a565b6040805160c0810182525f80825260208201819052918101829052606081018290526080810182905260a0810191909152506001600160401b039081165f908152600660209081526040808320815160c0810183528154815260018201548185015260029091015480861682840152600160601b810486166060830152600160a01b81049095166080820152600160401b90940463ffffffff16835260039091529020546001600160a01b031660a082015290565b60405161023b91905f60c08201905082518252602083015160208301526001600160401b0360408401511660408301526001600160401b0360608401511660608301526001600160401b03608084015116608083015260018060a01b0360a08401511660a083015292915050565b60405180910390f35b61025761025236600461176a565b6105b8565b005b6102f861026736600461174a565b6040805160c080820183525f80835260208084018290528385018290526060808501839052608080860184905260a09586018490526001600160401b0397881684526005835292869020548651808601885261ffff8083168252601083901c16818501529281901c63ffffffff16838801529586901c87169082015284821c909516908501529190911c9082015290565b60405161023b91905f60c08201905061ffff835116825261ffff602084015116602083015263ffffffff60408401511660408301526001600160401b0360608401511660608301526001600160401b0360808401511660808301526001600160401b0360a08401511660a083015292915050565b61025761037a3660046117ab565b6107dd565b61025761038d3660046117ab565b6108eb565b61041c6103a03660046117ab565b604080516080810182525f808252602082018190529181018290526060810191909152506001600160a01b03165f9081526004602090815260409182902054825160808101845261ffff821681526201000082161515818401526202000082161515938101939093526001600160401b03911c16606082015290565b60405161023b9190815161ffff1681526020808301511515908201526040808301511515908201526060918201516001600160401b03169181019190915260800190565b61025761046e3660046117d1565b6109b6565b6102576104813660046117ab565b610bff565b60015460b01c6040516001600160401b03909116815260200161023b565b6104d36104b23660046117ab565b6001600160a01b03165f908152600460205260409020546201000016151590565b604051901515815260200161023b565b5f546040516001600160a01b03909116815260200161023b565b6104d361050b3660046117ab565b6001600160a01b03165f90815260026020526040902054600160201b900460ff1690565b61055761053d3660046117ab565b6001600160a01b03165f9081526004602052604090205490565b60405161ffff909116815260200161023b565b610572610ca6565b60405161023b91906118a5565b61025761058d3660046117ab565b610cbb565b6102576105a03660046117ab565b610d7d565b6102576105b33660046118fb565b610e29565b335f9081526002602090815260409182902082518084019093525463ffffffff81168352600160201b900460ff1615159082018190526106125760405163f01654df60e01b81523360048201526024015b60405180910390fd5b846001600160401b03165f0361063b57604051633032c85760e11b815260040160405180910390fd5b836106595760405163f1ae58d560e01b815260040160405180910390fd5b6001600160401b038316156106d3578161069157604051633cce8d5d60e11b81526001600160401b0384166004820152602401610609565b6001600160401b0383165f9081526005602052604081205490036106d3576040516304b224b760e41b81526001600160401b0384166004820152602401610609565b6001600160401b0385165f90815260066020526040902080541561071557604051637c3ba3d760e11b81526001600160401b0387166004820152602401610609565b8481556001810183905560028101805483516001600160401b038781166bffffffffffffffffffffffff199093168317600160401b63ffffffff90931692909202919091176fffffffffffffffffffffffffffffffff60601b1916600160601b4383160267ffffffffffffffff60a01b191617600160a01b42831602179092556040805186815233602082015291928892908a16917f25e1bc23b1a808576480eb97ef2f7fa8c6d05d7330f6e3a39aef2f1e2ee85ac8910160405180910390a4505050505050565b335f90815260026020526040902054600160201b900460ff166108155760405163f01654df60e01b8152336004820152602401610609565b6001600160a01b03811661083c5760405163d92e233d60e01b815260040160405180910390fd5b6001600160a01b0381165f908152600460205260409020546201000081161561088357604051634111078f60e11b81526001600160a01b0383166004820152602401610609565b6202000081165f036108a2576070600154901c61ffff16620200001790505b6001600160a01b0382165f818152600460205260408082206201000085179055517f8e62699086cab511457159fbe8718f3efdda43fce3b99a1fe7e80fc7da50cc1e9190a25050565b335f90815260026020526040902054600160201b900460ff166109235760405163f01654df60e01b8152336004820152602401610609565b6001600160a01b0381165f9081526004602052604081205490620100008216900361096c5760405163279d583760e21b81526001600160a01b0383166004820152602401610609565b6001600160a01b0382165f81815260046020526040808220620100001985169055517ffa59f6e949d50cd4c086123587da0ce504890f608110290fc9e4ff20fbb582da9190a25050565b5f546001600160a01b031633146109e25760405163245aecd360e01b8152336004820152602401610609565b6127106109f26020830183611993565b61ffff161115610a2957610a096020820182611993565b604051637b65fa9160e11b815261ffff9091166004820152602401610609565b610a3960e0820160c08301611993565b61ffff16610a4d60c0830160a08401611993565b61ffff161115610a9e57610a6760c0820160a08301611993565b610a7760e0830160c08401611993565b604051632f804fc360e11b815261ffff928316600482015291166024820152604401610609565b610aae60e0820160c08301611993565b61ffff16610ac260a0830160808401611993565b61ffff161115610b1357610adc60a0820160808301611993565b610aec60e0830160c08401611993565b604051636ce810a760e11b815261ffff928316600482015291166024820152604401610609565b7faa9dd7ea7f82673a3b0a3b034787c70216e3db1d1d5bf1b70892c5293a94c490610b3c611086565b82604051610b4b9291906119bf565b60405180910390a1610bfc610b6536839003830183611ad4565b5f60b0600154901c905060b081901b60a083610100015161ffff16901b60908460e0015161ffff16901b60808560c0015161ffff16901b60708660a0015161ffff16901b6060876080015161ffff16901b6040886060015163ffffffff16901b6020896040015163ffffffff16901b60108a6020015161ffff16901b8a5f015161ffff161717171717171717176001819055505050565b50565b5f546001600160a01b03163314610c2b5760405163245aecd360e01b8152336004820152602401610609565b6001600160a01b038116610c525760405163d92e233d60e01b815260040160405180910390fd5b6001600160a01b0381165f90815260026020526040902054600160201b900460ff1615610c9d5760405163041c344960e51b81526001600160a01b0382166004820152602401610609565b610bfc81611122565b610cae6116e4565b610cb6611086565b905090565b5f546001600160a01b03163314610ce75760405163245aecd360e01b8152336004820152602401610609565b6001600160a01b0381165f90815260026020526040902054600160201b900460ff16610d315760405163c6a6c01760e01b81526001600160a01b0382166004820152602401610609565b6001600160a01b0381165f81815260026020526040808220805464ff0000000019169055517fac047e9209560925fa9f0b1b8913980af5187e109371527fd19864d2671a4fcb9190a250565b5f546001600160a01b03163314610da95760405163245aecd360e01b8152336004820152602401610609565b6001600160a01b038116610dd05760405163d92e233d60e01b815260040160405180910390fd5b5f80546040516001600160a01b03808516939216917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e091a35f80546001600160a01b0319166001600160a01b0392909216919091179055565b335f90815260026020526040902054600160201b900460ff16610e615760405163f01654df60e01b8152336004820152602401610609565b825f819003610e8357604051633124f6ab60e21b815260040160405180910390fd5b60ff811115610ea857604051636308319b60e11b815260048101829052602401610609565b818114610ed2576040516355c5b3e360e11b81526004810182905260248101839052604401610609565b866001600160401b03165f03610efb57604051631dda4bc160e31b815260040160405180910390fd5b60015460b081901c6001600160401b03808216908a1611610f83576001600160401b0389165f9081526005602052604090205415610f57576040516332c33b2d60e11b81526001600160401b038a166004820152602401610609565b604051633233829160e01b81526001600160401b03808b16600483015282166024820152604401610609565b505f5f610f92838a8a8a61121a565b915091505f610fa684838d8c8c8c8c6113f9565b67ffffffffffffffff60b01b19851667ffffffffffffffff60b01b60b08e901b16176001556001600160401b038c165f81815260056020908152604091829020601085901b8a179188901b919091179186901b919091174360801b174260c01b1790559091507f8e9c290db8ddeb675face1066db0bd8bb360e9b30f118859f7f661550ae02a3886838663ffffffff87116110415786611047565b63ffffffff5b6040805161ffff958616815293909416602084015263ffffffff9182168385015216606082015290519081900360800190a25050505050505050505050565b61108e6116e4565b5f60015490506040518061012001604052808261ffff168152602001601083901c61ffff168152602001602083901c63ffffffff168152602001604083901c63ffffffff168152602001606083901c61ffff168152602001607083901c61ffff168152602001608083901c61ffff168152602001609083901c61ffff16815260200160a083901c61ffff1681525091505090565b6001600160a01b0381165f9081526002602052604081208054909163ffffffff909116908190036111bf575f805460149061116990600160a01b900463ffffffff16611b9f565b825463ffffffff8083166101009490940a84810291021990911617909255835463ffffffff1916811784555f90815260036020526040902080546001600160a01b0386166001600160a01b031990911617905590505b815464ff000000001916600160201b17825560405163ffffffff821681526001600160a01b038416907f9cb027e8575eafeffa52358d66c1a7b0cc3b23722c3884c06390d34d18c5a82b9060200160405180910390a2505050565b5f80608085901c156112425760405163071b7da360e31b815260048101869052602401610609565b82600261125c63ffffffff602089901c8116908916611bc3565b6112669190611bd6565b92505f5f611318565b5f5f63ffffffff851663ffffffff8660201c1663ffffffff8760401c168760601c5b8787101561130b5786358060f01c156112ad578795505061130b565b60b01c63ffffffff168a81038b8210156112c65750808b035b82811160701b83821060601b1784821160501b85831060401b171785831160301b86841060201b1787841160101b888510171717880197505050602087019650611291565b5050505094509492505050565b8661132a868a8660051b84018461126f565b9250925050805f146113595760405163304348e760e11b815287820360051c6004820181905290602401610609565b6113638284611674565b6113835760405163071b7da360e31b815260048101899052602401610609565b5f60026113a163ffffffff60608c901c81169060408d901c16611bc3565b6113ab9190611bd6565b905063ffffffff60208b901c1660646113cc8361ffff60108f901c16611bf5565b6113d69190611bd6565b6113e09088611bc3565b6113ea9190611bc3565b94505050505094509492505050565b5f7fc37d3af56be7c2f6064944f952fc4946113fa1bce84045c91bd34214a36fd29567ffffffffffffffff60b01b19891660b089901b178261155d565b5f5f5b85851015611552578435878601358160601b60601c5f5260405f208054878160201c146201000082161517831517156114785788945050505050611552565b8660b01c63ffffffff8560b01c161160011b61ffff881661ffff8660a01c16111763ffffffff8860401c16805f10818760d01c111660021b821791505061ffff82169450805f81146114db5761ffff8960a01c16808703818811029350506114fd565b61ffff8960901c168601925061ffff8960801c16808411156114fb578093505b505b5061ffff8860601c16851060031b811790508015870196508860201b6202000062010000178317178355838d528060208e0152508060408d0152505050505f518460608a015160608ba3602085019450611439565b965096945050505050565b60405183606082015260046020528861158182828a038b60051b8401848f89611436565b935095505050805f0361159657505050611669565b87810360051c5f8787838181106115af576115af611c0c565b90506020020135036115d65760405162c1cb7b60e21b815260048101829052602401610609565b5f8989838181106115e9576115e9611c0c565b9050602002013590506201000060045f836001600160a01b03166001600160a01b031681526020019081526020015f2054165f036116455760405163279d583760e21b81526001600160a01b0382166004820152602401610609565b60405163063cc85560e11b81526001600160a01b0382166004820152602401610609565b979650505050505050565b5f806002611683600185611c20565b61168d9190611bd6565b90505f61169b600285611bd6565b9050601081901b8217602082901b17603083901b17604081901b176f8000800080008000800080008000800080806116d589828617611c20565b16149450505050505b92915050565b60408051610120810182525f80825260208201819052918101829052606081018290526080810182905260a0810182905260c0810182905260e0810182905261010081019190915290565b80356001600160401b0381168114611745575f5ffd5b919050565b5f6020828403121561175a575f5ffd5b6117638261172f565b9392505050565b5f5f5f5f6080858703121561177d575f5ffd5b6117868561172f565b93506020850135925061179b6040860161172f565b9396929550929360600135925050565b5f602082840312156117bb575f5ffd5b81356001600160a01b0381168114611763575f5ffd5b5f6101208284031280156117e3575f5ffd5b509092915050565b61ffff815116825261ffff60208201511660208301526040810151611818604084018263ffffffff169052565b506060810151611830606084018263ffffffff169052565b506080810151611846608084018261ffff169052565b5060a081015161185c60a084018261ffff169052565b5060c081015161187260c084018261ffff169052565b5060e081015161188860e084018261ffff169052565b506101008101516118a061010084018261ffff169052565b505050565b61012081016116de82846117eb565b5f5f83601f8401126118c4575f5ffd5b5081356001600160401b038111156118da575f5ffd5b6020830191508360208260051b85010111156118f4575f5ffd5b9250929050565b5f5f5f5f5f5f60808789031215611910575f5ffd5b6119198761172f565b95506020870135945060408701356001600160401b0381111561193a575f5ffd5b61194689828a016118b4565b90955093505060608701356001600160401b03811115611964575f5ffd5b61197089828a016118b4565b979a9699509497509295939492505050565b803561ffff81168114611745575f5ffd5b5f602082840312156119a3575f5ffd5b61176382611982565b803563ffffffff81168114611745575f5ffd5b61024081016119ce82856117eb565b61ffff6119da84611982565b1661012083015261ffff6119f060208501611982565b16610140830152611a03604084016119ac565b63ffffffff16610160830152611a1b606084016119ac565b63ffffffff16610180830152611a3360808401611982565b61ffff166101a0830152611a4960a08401611982565b61ffff166101c0830152611a5f60c08401611982565b61ffff166101e0830152611a7560e08401611982565b61ffff16610200830152611a8c6101008401611982565b61ffff8116610220840152509392505050565b60405161012081016001600160401b0381118282101715611ace57634e487b7160e01b5f52604160045260245ffd5b60405290565b5f610120828403128015611ae6575f5ffd5b50611aef611a9f565b611af883611982565b8152611b0660208401611982565b6020820152611b17604084016119ac565b6040820152611b28606084016119ac565b6060820152611b3960808401611982565b6080820152611b4a60a08401611982565b60a0820152611b5b60c08401611982565b60c0820152611b6c60e08401611982565b60e0820152611b7e6101008401611982565b6101008201529392505050565b634e487b7160e01b5f52601160045260245ffd5b5f63ffffffff821663ffffffff8103611bba57611bba611b8b565b60010192915050565b808201808211156116de576116de611b8b565b5f82611bf057634e487b7160e01b5f52601260045260245ffd5b500490565b80820281158282048414176116de576116de611b8b565b634e487b7160e01b5f52603260045260245ffd5b818103818111156116de576116de611b8b56",
}

// FederationRegistry is an auto generated Go binding around an Ethereum contract.
type FederationRegistry struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *FederationRegistry) GetABI() abi.ABI {
	return c.abi
}

// NewFederationRegistry creates a new instance of FederationRegistry.
func NewFederationRegistry() *FederationRegistry {
	parsed, err := FederationRegistryMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &FederationRegistry{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *FederationRegistry) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackEnrollSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1aa69e0d.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function enrollSite(address site) returns()
func (federationRegistry *FederationRegistry) PackEnrollSite(site common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("enrollSite", site)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEnrollSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1aa69e0d.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function enrollSite(address site) returns()
func (federationRegistry *FederationRegistry) TryPackEnrollSite(site common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("enrollSite", site)
}

// PackGetGlobalModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0625d9d8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getGlobalModel(uint64 version) view returns((bytes32,bytes32,uint64,uint64,uint64,address))
func (federationRegistry *FederationRegistry) PackGetGlobalModel(version uint64) []byte {
	enc, err := federationRegistry.abi.Pack("getGlobalModel", version)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetGlobalModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0625d9d8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getGlobalModel(uint64 version) view returns((bytes32,bytes32,uint64,uint64,uint64,address))
func (federationRegistry *FederationRegistry) TryPackGetGlobalModel(version uint64) ([]byte, error) {
	return federationRegistry.abi.Pack("getGlobalModel", version)
}

// UnpackGetGlobalModel is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x0625d9d8.
//
// Solidity: function getGlobalModel(uint64 version) view returns((bytes32,bytes32,uint64,uint64,uint64,address))
func (federationRegistry *FederationRegistry) UnpackGetGlobalModel(data []byte) (FederationRegistryGlobalModel, error) {
	out, err := federationRegistry.abi.Unpack("getGlobalModel", data)
	if err != nil {
		return *new(FederationRegistryGlobalModel), err
	}
	out0 := *abi.ConvertType(out[0], new(FederationRegistryGlobalModel)).(*FederationRegistryGlobalModel)
	return out0, nil
}

// PackGetRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x144d0229.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getRound(uint64 round) view returns((uint16,uint16,uint32,uint64,uint64,uint64))
func (federationRegistry *FederationRegistry) PackGetRound(round uint64) []byte {
	enc, err := federationRegistry.abi.Pack("getRound", round)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x144d0229.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getRound(uint64 round) view returns((uint16,uint16,uint32,uint64,uint64,uint64))
func (federationRegistry *FederationRegistry) TryPackGetRound(round uint64) ([]byte, error) {
	return federationRegistry.abi.Pack("getRound", round)
}

// UnpackGetRound is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x144d0229.
//
// Solidity: function getRound(uint64 round) view returns((uint16,uint16,uint32,uint64,uint64,uint64))
func (federationRegistry *FederationRegistry) UnpackGetRound(data []byte) (FederationRegistryRoundSummary, error) {
	out, err := federationRegistry.abi.Unpack("getRound", data)
	if err != nil {
		return *new(FederationRegistryRoundSummary), err
	}
	out0 := *abi.ConvertType(out[0], new(FederationRegistryRoundSummary)).(*FederationRegistryRoundSummary)
	return out0, nil
}

// PackGetSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x62ff53c7.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getSite(address site) view returns((uint16,bool,bool,uint64))
func (federationRegistry *FederationRegistry) PackGetSite(site common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("getSite", site)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x62ff53c7.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getSite(address site) view returns((uint16,bool,bool,uint64))
func (federationRegistry *FederationRegistry) TryPackGetSite(site common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("getSite", site)
}

// UnpackGetSite is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x62ff53c7.
//
// Solidity: function getSite(address site) view returns((uint16,bool,bool,uint64))
func (federationRegistry *FederationRegistry) UnpackGetSite(data []byte) (FederationRegistrySite, error) {
	out, err := federationRegistry.abi.Unpack("getSite", data)
	if err != nil {
		return *new(FederationRegistrySite), err
	}
	out0 := *abi.ConvertType(out[0], new(FederationRegistrySite)).(*FederationRegistrySite)
	return out0, nil
}

// PackGrantCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x82320aa1.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function grantCoordinator(address account) returns()
func (federationRegistry *FederationRegistry) PackGrantCoordinator(account common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("grantCoordinator", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGrantCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x82320aa1.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function grantCoordinator(address account) returns()
func (federationRegistry *FederationRegistry) TryPackGrantCoordinator(account common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("grantCoordinator", account)
}

// PackIsCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaec32099.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isCoordinator(address account) view returns(bool)
func (federationRegistry *FederationRegistry) PackIsCoordinator(account common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("isCoordinator", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xaec32099.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isCoordinator(address account) view returns(bool)
func (federationRegistry *FederationRegistry) TryPackIsCoordinator(account common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("isCoordinator", account)
}

// UnpackIsCoordinator is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xaec32099.
//
// Solidity: function isCoordinator(address account) view returns(bool)
func (federationRegistry *FederationRegistry) UnpackIsCoordinator(data []byte) (bool, error) {
	out, err := federationRegistry.abi.Unpack("isCoordinator", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackIsSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x83e551fd.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isSite(address site) view returns(bool)
func (federationRegistry *FederationRegistry) PackIsSite(site common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("isSite", site)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x83e551fd.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isSite(address site) view returns(bool)
func (federationRegistry *FederationRegistry) TryPackIsSite(site common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("isSite", site)
}

// UnpackIsSite is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x83e551fd.
//
// Solidity: function isSite(address site) view returns(bool)
func (federationRegistry *FederationRegistry) UnpackIsSite(data []byte) (bool, error) {
	out, err := federationRegistry.abi.Unpack("isSite", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackLastRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x82bc07e6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function lastRound() view returns(uint64)
func (federationRegistry *FederationRegistry) PackLastRound() []byte {
	enc, err := federationRegistry.abi.Pack("lastRound")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackLastRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x82bc07e6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function lastRound() view returns(uint64)
func (federationRegistry *FederationRegistry) TryPackLastRound() ([]byte, error) {
	return federationRegistry.abi.Pack("lastRound")
}

// UnpackLastRound is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x82bc07e6.
//
// Solidity: function lastRound() view returns(uint64)
func (federationRegistry *FederationRegistry) UnpackLastRound(data []byte) (uint64, error) {
	out, err := federationRegistry.abi.Unpack("lastRound", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function owner() view returns(address)
func (federationRegistry *FederationRegistry) PackOwner() []byte {
	enc, err := federationRegistry.abi.Pack("owner")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function owner() view returns(address)
func (federationRegistry *FederationRegistry) TryPackOwner() ([]byte, error) {
	return federationRegistry.abi.Pack("owner")
}

// UnpackOwner is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (federationRegistry *FederationRegistry) UnpackOwner(data []byte) (common.Address, error) {
	out, err := federationRegistry.abi.Unpack("owner", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackRegisterGlobalModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x12feeedb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function registerGlobalModel(uint64 version, bytes32 modelHash, uint64 round, bytes32 updatesRoot) returns()
func (federationRegistry *FederationRegistry) PackRegisterGlobalModel(version uint64, modelHash [32]byte, round uint64, updatesRoot [32]byte) []byte {
	enc, err := federationRegistry.abi.Pack("registerGlobalModel", version, modelHash, round, updatesRoot)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRegisterGlobalModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x12feeedb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function registerGlobalModel(uint64 version, bytes32 modelHash, uint64 round, bytes32 updatesRoot) returns()
func (federationRegistry *FederationRegistry) TryPackRegisterGlobalModel(version uint64, modelHash [32]byte, round uint64, updatesRoot [32]byte) ([]byte, error) {
	return federationRegistry.abi.Pack("registerGlobalModel", version, modelHash, round, updatesRoot)
}

// PackRemoveSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5b610667.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function removeSite(address site) returns()
func (federationRegistry *FederationRegistry) PackRemoveSite(site common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("removeSite", site)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRemoveSite is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5b610667.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function removeSite(address site) returns()
func (federationRegistry *FederationRegistry) TryPackRemoveSite(site common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("removeSite", site)
}

// PackReputation is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb9f79451.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function reputation(address site) view returns(uint16)
func (federationRegistry *FederationRegistry) PackReputation(site common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("reputation", site)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackReputation is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb9f79451.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function reputation(address site) view returns(uint16)
func (federationRegistry *FederationRegistry) TryPackReputation(site common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("reputation", site)
}

// UnpackReputation is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb9f79451.
//
// Solidity: function reputation(address site) view returns(uint16)
func (federationRegistry *FederationRegistry) UnpackReputation(data []byte) (uint16, error) {
	out, err := federationRegistry.abi.Unpack("reputation", data)
	if err != nil {
		return *new(uint16), err
	}
	out0 := *abi.ConvertType(out[0], new(uint16)).(*uint16)
	return out0, nil
}

// PackRevokeCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xedd8fc46.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeCoordinator(address account) returns()
func (federationRegistry *FederationRegistry) PackRevokeCoordinator(account common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("revokeCoordinator", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeCoordinator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xedd8fc46.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeCoordinator(address account) returns()
func (federationRegistry *FederationRegistry) TryPackRevokeCoordinator(account common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("revokeCoordinator", account)
}

// PackSetThresholds is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x709b1457.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function setThresholds((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16) t) returns()
func (federationRegistry *FederationRegistry) PackSetThresholds(t FederationRegistryThresholds) []byte {
	enc, err := federationRegistry.abi.Pack("setThresholds", t)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSetThresholds is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x709b1457.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function setThresholds((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16) t) returns()
func (federationRegistry *FederationRegistry) TryPackSetThresholds(t FederationRegistryThresholds) ([]byte, error) {
	return federationRegistry.abi.Pack("setThresholds", t)
}

// PackSubmitRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe042ae0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function submitRound(uint64 round, uint256 middles, uint256[] updates, bytes32[] updateHashes) returns()
func (federationRegistry *FederationRegistry) PackSubmitRound(round uint64, middles *big.Int, updates []*big.Int, updateHashes [][32]byte) []byte {
	enc, err := federationRegistry.abi.Pack("submitRound", round, middles, updates, updateHashes)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSubmitRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe042ae0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function submitRound(uint64 round, uint256 middles, uint256[] updates, bytes32[] updateHashes) returns()
func (federationRegistry *FederationRegistry) TryPackSubmitRound(round uint64, middles *big.Int, updates []*big.Int, updateHashes [][32]byte) ([]byte, error) {
	return federationRegistry.abi.Pack("submitRound", round, middles, updates, updateHashes)
}

// PackThresholds is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcda43b3a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function thresholds() view returns((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16))
func (federationRegistry *FederationRegistry) PackThresholds() []byte {
	enc, err := federationRegistry.abi.Pack("thresholds")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackThresholds is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcda43b3a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function thresholds() view returns((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16))
func (federationRegistry *FederationRegistry) TryPackThresholds() ([]byte, error) {
	return federationRegistry.abi.Pack("thresholds")
}

// UnpackThresholds is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xcda43b3a.
//
// Solidity: function thresholds() view returns((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16))
func (federationRegistry *FederationRegistry) UnpackThresholds(data []byte) (FederationRegistryThresholds, error) {
	out, err := federationRegistry.abi.Unpack("thresholds", data)
	if err != nil {
		return *new(FederationRegistryThresholds), err
	}
	out0 := *abi.ConvertType(out[0], new(FederationRegistryThresholds)).(*FederationRegistryThresholds)
	return out0, nil
}

// PackTransferOwnership is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2fde38b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (federationRegistry *FederationRegistry) PackTransferOwnership(newOwner common.Address) []byte {
	enc, err := federationRegistry.abi.Pack("transferOwnership", newOwner)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTransferOwnership is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2fde38b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (federationRegistry *FederationRegistry) TryPackTransferOwnership(newOwner common.Address) ([]byte, error) {
	return federationRegistry.abi.Pack("transferOwnership", newOwner)
}

// FederationRegistryCoordinatorGranted represents a CoordinatorGranted event raised by the FederationRegistry contract.
type FederationRegistryCoordinatorGranted struct {
	Account common.Address
	Id      uint32
	Raw     *types.Log // Blockchain specific contextual infos
}

const FederationRegistryCoordinatorGrantedEventName = "CoordinatorGranted"

// ContractEventName returns the user-defined event name.
func (FederationRegistryCoordinatorGranted) ContractEventName() string {
	return FederationRegistryCoordinatorGrantedEventName
}

// UnpackCoordinatorGrantedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event CoordinatorGranted(address indexed account, uint32 id)
func (federationRegistry *FederationRegistry) UnpackCoordinatorGrantedEvent(log *types.Log) (*FederationRegistryCoordinatorGranted, error) {
	event := "CoordinatorGranted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryCoordinatorGranted)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryCoordinatorRevoked represents a CoordinatorRevoked event raised by the FederationRegistry contract.
type FederationRegistryCoordinatorRevoked struct {
	Account common.Address
	Raw     *types.Log // Blockchain specific contextual infos
}

const FederationRegistryCoordinatorRevokedEventName = "CoordinatorRevoked"

// ContractEventName returns the user-defined event name.
func (FederationRegistryCoordinatorRevoked) ContractEventName() string {
	return FederationRegistryCoordinatorRevokedEventName
}

// UnpackCoordinatorRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event CoordinatorRevoked(address indexed account)
func (federationRegistry *FederationRegistry) UnpackCoordinatorRevokedEvent(log *types.Log) (*FederationRegistryCoordinatorRevoked, error) {
	event := "CoordinatorRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryCoordinatorRevoked)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryGlobalModelRegistered represents a GlobalModelRegistered event raised by the FederationRegistry contract.
type FederationRegistryGlobalModelRegistered struct {
	Version     uint64
	ModelHash   [32]byte
	Round       uint64
	UpdatesRoot [32]byte
	Submitter   common.Address
	Raw         *types.Log // Blockchain specific contextual infos
}

const FederationRegistryGlobalModelRegisteredEventName = "GlobalModelRegistered"

// ContractEventName returns the user-defined event name.
func (FederationRegistryGlobalModelRegistered) ContractEventName() string {
	return FederationRegistryGlobalModelRegisteredEventName
}

// UnpackGlobalModelRegisteredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event GlobalModelRegistered(uint64 indexed version, bytes32 indexed modelHash, uint64 indexed round, bytes32 updatesRoot, address submitter)
func (federationRegistry *FederationRegistry) UnpackGlobalModelRegisteredEvent(log *types.Log) (*FederationRegistryGlobalModelRegistered, error) {
	event := "GlobalModelRegistered"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryGlobalModelRegistered)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryOwnershipTransferred represents a OwnershipTransferred event raised by the FederationRegistry contract.
type FederationRegistryOwnershipTransferred struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           *types.Log // Blockchain specific contextual infos
}

const FederationRegistryOwnershipTransferredEventName = "OwnershipTransferred"

// ContractEventName returns the user-defined event name.
func (FederationRegistryOwnershipTransferred) ContractEventName() string {
	return FederationRegistryOwnershipTransferredEventName
}

// UnpackOwnershipTransferredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (federationRegistry *FederationRegistry) UnpackOwnershipTransferredEvent(log *types.Log) (*FederationRegistryOwnershipTransferred, error) {
	event := "OwnershipTransferred"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryOwnershipTransferred)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryRoundEvaluated represents a RoundEvaluated event raised by the FederationRegistry contract.
type FederationRegistryRoundEvaluated struct {
	Round            uint64
	Updates          uint16
	Accepted         uint16
	DivergenceMedian uint32
	DivergenceBand   uint32
	Raw              *types.Log // Blockchain specific contextual infos
}

const FederationRegistryRoundEvaluatedEventName = "RoundEvaluated"

// ContractEventName returns the user-defined event name.
func (FederationRegistryRoundEvaluated) ContractEventName() string {
	return FederationRegistryRoundEvaluatedEventName
}

// UnpackRoundEvaluatedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RoundEvaluated(uint64 indexed round, uint16 updates, uint16 accepted, uint32 divergenceMedian, uint32 divergenceBand)
func (federationRegistry *FederationRegistry) UnpackRoundEvaluatedEvent(log *types.Log) (*FederationRegistryRoundEvaluated, error) {
	event := "RoundEvaluated"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryRoundEvaluated)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistrySiteEnrolled represents a SiteEnrolled event raised by the FederationRegistry contract.
type FederationRegistrySiteEnrolled struct {
	Site common.Address
	Raw  *types.Log // Blockchain specific contextual infos
}

const FederationRegistrySiteEnrolledEventName = "SiteEnrolled"

// ContractEventName returns the user-defined event name.
func (FederationRegistrySiteEnrolled) ContractEventName() string {
	return FederationRegistrySiteEnrolledEventName
}

// UnpackSiteEnrolledEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event SiteEnrolled(address indexed site)
func (federationRegistry *FederationRegistry) UnpackSiteEnrolledEvent(log *types.Log) (*FederationRegistrySiteEnrolled, error) {
	event := "SiteEnrolled"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistrySiteEnrolled)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistrySiteRemoved represents a SiteRemoved event raised by the FederationRegistry contract.
type FederationRegistrySiteRemoved struct {
	Site common.Address
	Raw  *types.Log // Blockchain specific contextual infos
}

const FederationRegistrySiteRemovedEventName = "SiteRemoved"

// ContractEventName returns the user-defined event name.
func (FederationRegistrySiteRemoved) ContractEventName() string {
	return FederationRegistrySiteRemovedEventName
}

// UnpackSiteRemovedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event SiteRemoved(address indexed site)
func (federationRegistry *FederationRegistry) UnpackSiteRemovedEvent(log *types.Log) (*FederationRegistrySiteRemoved, error) {
	event := "SiteRemoved"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistrySiteRemoved)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryThresholdsChanged represents a ThresholdsChanged event raised by the FederationRegistry contract.
type FederationRegistryThresholdsChanged struct {
	Previous FederationRegistryThresholds
	Current  FederationRegistryThresholds
	Raw      *types.Log // Blockchain specific contextual infos
}

const FederationRegistryThresholdsChangedEventName = "ThresholdsChanged"

// ContractEventName returns the user-defined event name.
func (FederationRegistryThresholdsChanged) ContractEventName() string {
	return FederationRegistryThresholdsChangedEventName
}

// UnpackThresholdsChangedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ThresholdsChanged((uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16) previous, (uint16,uint16,uint32,uint32,uint16,uint16,uint16,uint16,uint16) current)
func (federationRegistry *FederationRegistry) UnpackThresholdsChangedEvent(log *types.Log) (*FederationRegistryThresholdsChanged, error) {
	event := "ThresholdsChanged"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryThresholdsChanged)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// FederationRegistryVerdict represents a Verdict event raised by the FederationRegistry contract.
type FederationRegistryVerdict struct {
	Round      uint64
	Site       common.Address
	UpdateHash [32]byte
	Reasons    uint8
	Reputation uint16
	Raw        *types.Log // Blockchain specific contextual infos
}

const FederationRegistryVerdictEventName = "Verdict"

// ContractEventName returns the user-defined event name.
func (FederationRegistryVerdict) ContractEventName() string {
	return FederationRegistryVerdictEventName
}

// UnpackVerdictEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Verdict(uint64 indexed round, address indexed site, bytes32 updateHash, uint8 reasons, uint16 reputation)
func (federationRegistry *FederationRegistry) UnpackVerdictEvent(log *types.Log) (*FederationRegistryVerdict, error) {
	event := "Verdict"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != federationRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(FederationRegistryVerdict)
	if len(log.Data) > 0 {
		if err := federationRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range federationRegistry.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (federationRegistry *FederationRegistry) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["CoordinatorAlreadyGranted"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackCoordinatorAlreadyGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["CoordinatorNotGranted"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackCoordinatorNotGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["DuplicateSite"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackDuplicateSiteError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["EmptyRound"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackEmptyRoundError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["LengthMismatch"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackLengthMismatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["MaxAnomalyAboveScale"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackMaxAnomalyAboveScaleError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["MiddlesMismatch"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackMiddlesMismatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["MinReputationAboveRepMax"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackMinReputationAboveRepMaxError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ModelAlreadyRegistered"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackModelAlreadyRegisteredError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["NotCoordinator"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackNotCoordinatorError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["NotOwner"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackNotOwnerError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["RepInitAboveRepMax"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackRepInitAboveRepMaxError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ReservedBitsSet"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackReservedBitsSetError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["RoundAlreadySubmitted"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackRoundAlreadySubmittedError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["RoundNotEvaluated"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackRoundNotEvaluatedError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["RoundOutOfOrder"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackRoundOutOfOrderError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["SiteAlreadyEnrolled"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackSiteAlreadyEnrolledError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["SiteNotEnrolled"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackSiteNotEnrolledError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["TooManyUpdates"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackTooManyUpdatesError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroAddress"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroAddressError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroHash"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroHashError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroModelVersion"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroModelVersionError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroRound"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroRoundError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroUpdateHash"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroUpdateHashError(raw[4:])
	}
	if bytes.Equal(raw[:4], federationRegistry.abi.Errors["ZeroUpdatesRoot"].ID.Bytes()[:4]) {
		return federationRegistry.UnpackZeroUpdatesRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// FederationRegistryCoordinatorAlreadyGranted represents a CoordinatorAlreadyGranted error raised by the FederationRegistry contract.
type FederationRegistryCoordinatorAlreadyGranted struct {
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error CoordinatorAlreadyGranted(address account)
func FederationRegistryCoordinatorAlreadyGrantedErrorID() common.Hash {
	return common.HexToHash("0x83868920ff681c658c760cb8b8d93dbad8fdcf1309551008fbcc2a97bf449b83")
}

// UnpackCoordinatorAlreadyGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error CoordinatorAlreadyGranted(address account)
func (federationRegistry *FederationRegistry) UnpackCoordinatorAlreadyGrantedError(raw []byte) (*FederationRegistryCoordinatorAlreadyGranted, error) {
	out := new(FederationRegistryCoordinatorAlreadyGranted)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "CoordinatorAlreadyGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryCoordinatorNotGranted represents a CoordinatorNotGranted error raised by the FederationRegistry contract.
type FederationRegistryCoordinatorNotGranted struct {
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error CoordinatorNotGranted(address account)
func FederationRegistryCoordinatorNotGrantedErrorID() common.Hash {
	return common.HexToHash("0xc6a6c017a6142339d67f908ba47431be6a0e08415ce314250b15bb74dc8c38e4")
}

// UnpackCoordinatorNotGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error CoordinatorNotGranted(address account)
func (federationRegistry *FederationRegistry) UnpackCoordinatorNotGrantedError(raw []byte) (*FederationRegistryCoordinatorNotGranted, error) {
	out := new(FederationRegistryCoordinatorNotGranted)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "CoordinatorNotGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryDuplicateSite represents a DuplicateSite error raised by the FederationRegistry contract.
type FederationRegistryDuplicateSite struct {
	Site common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error DuplicateSite(address site)
func FederationRegistryDuplicateSiteErrorID() common.Hash {
	return common.HexToHash("0x0c7990aac8ca8219b11b78a5c780a5c9c55fc4818f598ab5d5cf593f43214314")
}

// UnpackDuplicateSiteError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error DuplicateSite(address site)
func (federationRegistry *FederationRegistry) UnpackDuplicateSiteError(raw []byte) (*FederationRegistryDuplicateSite, error) {
	out := new(FederationRegistryDuplicateSite)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "DuplicateSite", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryEmptyRound represents a EmptyRound error raised by the FederationRegistry contract.
type FederationRegistryEmptyRound struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error EmptyRound()
func FederationRegistryEmptyRoundErrorID() common.Hash {
	return common.HexToHash("0xc493daac0fbfb6fdd3d6a26d346ddd8848182adc985f2667dc6fea299b3086c6")
}

// UnpackEmptyRoundError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error EmptyRound()
func (federationRegistry *FederationRegistry) UnpackEmptyRoundError(raw []byte) (*FederationRegistryEmptyRound, error) {
	out := new(FederationRegistryEmptyRound)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "EmptyRound", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryLengthMismatch represents a LengthMismatch error raised by the FederationRegistry contract.
type FederationRegistryLengthMismatch struct {
	Updates      *big.Int
	UpdateHashes *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error LengthMismatch(uint256 updates, uint256 updateHashes)
func FederationRegistryLengthMismatchErrorID() common.Hash {
	return common.HexToHash("0xab8b67c6893c59617ef3ba4b4b942e9791f2572db2fdb32028356532f3b7396a")
}

// UnpackLengthMismatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error LengthMismatch(uint256 updates, uint256 updateHashes)
func (federationRegistry *FederationRegistry) UnpackLengthMismatchError(raw []byte) (*FederationRegistryLengthMismatch, error) {
	out := new(FederationRegistryLengthMismatch)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "LengthMismatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryMaxAnomalyAboveScale represents a MaxAnomalyAboveScale error raised by the FederationRegistry contract.
type FederationRegistryMaxAnomalyAboveScale struct {
	MaxAnomalyBp uint16
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error MaxAnomalyAboveScale(uint16 maxAnomalyBp)
func FederationRegistryMaxAnomalyAboveScaleErrorID() common.Hash {
	return common.HexToHash("0xf6cbf522d06980a2f6573340e445c9645d4dcaa2490fbee90a563a4b86f18314")
}

// UnpackMaxAnomalyAboveScaleError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error MaxAnomalyAboveScale(uint16 maxAnomalyBp)
func (federationRegistry *FederationRegistry) UnpackMaxAnomalyAboveScaleError(raw []byte) (*FederationRegistryMaxAnomalyAboveScale, error) {
	out := new(FederationRegistryMaxAnomalyAboveScale)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "MaxAnomalyAboveScale", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryMiddlesMismatch represents a MiddlesMismatch error raised by the FederationRegistry contract.
type FederationRegistryMiddlesMismatch struct {
	Middles *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error MiddlesMismatch(uint256 middles)
func FederationRegistryMiddlesMismatchErrorID() common.Hash {
	return common.HexToHash("0x38dbed1872256e24d0acefb7bd0b916d23f5be3c9263a7439da41e4fa8313242")
}

// UnpackMiddlesMismatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error MiddlesMismatch(uint256 middles)
func (federationRegistry *FederationRegistry) UnpackMiddlesMismatchError(raw []byte) (*FederationRegistryMiddlesMismatch, error) {
	out := new(FederationRegistryMiddlesMismatch)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "MiddlesMismatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryMinReputationAboveRepMax represents a MinReputationAboveRepMax error raised by the FederationRegistry contract.
type FederationRegistryMinReputationAboveRepMax struct {
	MinReputation uint16
	RepMax        uint16
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error MinReputationAboveRepMax(uint16 minReputation, uint16 repMax)
func FederationRegistryMinReputationAboveRepMaxErrorID() common.Hash {
	return common.HexToHash("0xd9d0214ed6991ca4065a878473a5c9a54aa773c41ab45d1e62a2074cd9ffe641")
}

// UnpackMinReputationAboveRepMaxError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error MinReputationAboveRepMax(uint16 minReputation, uint16 repMax)
func (federationRegistry *FederationRegistry) UnpackMinReputationAboveRepMaxError(raw []byte) (*FederationRegistryMinReputationAboveRepMax, error) {
	out := new(FederationRegistryMinReputationAboveRepMax)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "MinReputationAboveRepMax", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryModelAlreadyRegistered represents a ModelAlreadyRegistered error raised by the FederationRegistry contract.
type FederationRegistryModelAlreadyRegistered struct {
	Version uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ModelAlreadyRegistered(uint64 version)
func FederationRegistryModelAlreadyRegisteredErrorID() common.Hash {
	return common.HexToHash("0xf87747ae10f17a8c53f988271377b7a16ebeaf916e57fff3bce763abcdefbd59")
}

// UnpackModelAlreadyRegisteredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ModelAlreadyRegistered(uint64 version)
func (federationRegistry *FederationRegistry) UnpackModelAlreadyRegisteredError(raw []byte) (*FederationRegistryModelAlreadyRegistered, error) {
	out := new(FederationRegistryModelAlreadyRegistered)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ModelAlreadyRegistered", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryNotCoordinator represents a NotCoordinator error raised by the FederationRegistry contract.
type FederationRegistryNotCoordinator struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotCoordinator(address caller)
func FederationRegistryNotCoordinatorErrorID() common.Hash {
	return common.HexToHash("0xf01654dfa2acef475e0ff21d0f9b6ee860672131748a53fb337192529f065117")
}

// UnpackNotCoordinatorError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotCoordinator(address caller)
func (federationRegistry *FederationRegistry) UnpackNotCoordinatorError(raw []byte) (*FederationRegistryNotCoordinator, error) {
	out := new(FederationRegistryNotCoordinator)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "NotCoordinator", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryNotOwner represents a NotOwner error raised by the FederationRegistry contract.
type FederationRegistryNotOwner struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotOwner(address caller)
func FederationRegistryNotOwnerErrorID() common.Hash {
	return common.HexToHash("0x245aecd3fabbd17d6c3c92dc7f0ab916ea8cbf6fc1862c8b56893090ac3fff4c")
}

// UnpackNotOwnerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotOwner(address caller)
func (federationRegistry *FederationRegistry) UnpackNotOwnerError(raw []byte) (*FederationRegistryNotOwner, error) {
	out := new(FederationRegistryNotOwner)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "NotOwner", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryRepInitAboveRepMax represents a RepInitAboveRepMax error raised by the FederationRegistry contract.
type FederationRegistryRepInitAboveRepMax struct {
	RepInit uint16
	RepMax  uint16
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RepInitAboveRepMax(uint16 repInit, uint16 repMax)
func FederationRegistryRepInitAboveRepMaxErrorID() common.Hash {
	return common.HexToHash("0x5f009f86b3b42fac013b861d4a727a69a972c75c76ebdec1c9f4562babb839a0")
}

// UnpackRepInitAboveRepMaxError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RepInitAboveRepMax(uint16 repInit, uint16 repMax)
func (federationRegistry *FederationRegistry) UnpackRepInitAboveRepMaxError(raw []byte) (*FederationRegistryRepInitAboveRepMax, error) {
	out := new(FederationRegistryRepInitAboveRepMax)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "RepInitAboveRepMax", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryReservedBitsSet represents a ReservedBitsSet error raised by the FederationRegistry contract.
type FederationRegistryReservedBitsSet struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ReservedBitsSet(uint256 index)
func FederationRegistryReservedBitsSetErrorID() common.Hash {
	return common.HexToHash("0x608691ce11992d3a5eb84d2fca6a0a8b912c237432a540821cbf702f14241894")
}

// UnpackReservedBitsSetError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ReservedBitsSet(uint256 index)
func (federationRegistry *FederationRegistry) UnpackReservedBitsSetError(raw []byte) (*FederationRegistryReservedBitsSet, error) {
	out := new(FederationRegistryReservedBitsSet)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ReservedBitsSet", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryRoundAlreadySubmitted represents a RoundAlreadySubmitted error raised by the FederationRegistry contract.
type FederationRegistryRoundAlreadySubmitted struct {
	Round uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RoundAlreadySubmitted(uint64 round)
func FederationRegistryRoundAlreadySubmittedErrorID() common.Hash {
	return common.HexToHash("0x6586765acfb61b541758df9a2de0448693d56029c4b42f4115c6d9f7317440ac")
}

// UnpackRoundAlreadySubmittedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RoundAlreadySubmitted(uint64 round)
func (federationRegistry *FederationRegistry) UnpackRoundAlreadySubmittedError(raw []byte) (*FederationRegistryRoundAlreadySubmitted, error) {
	out := new(FederationRegistryRoundAlreadySubmitted)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "RoundAlreadySubmitted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryRoundNotEvaluated represents a RoundNotEvaluated error raised by the FederationRegistry contract.
type FederationRegistryRoundNotEvaluated struct {
	Round uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RoundNotEvaluated(uint64 round)
func FederationRegistryRoundNotEvaluatedErrorID() common.Hash {
	return common.HexToHash("0x4b224b7036699df732805f9cefb5a06e6ded9334a248ad11caf9a4bbcb59d8ad")
}

// UnpackRoundNotEvaluatedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RoundNotEvaluated(uint64 round)
func (federationRegistry *FederationRegistry) UnpackRoundNotEvaluatedError(raw []byte) (*FederationRegistryRoundNotEvaluated, error) {
	out := new(FederationRegistryRoundNotEvaluated)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "RoundNotEvaluated", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryRoundOutOfOrder represents a RoundOutOfOrder error raised by the FederationRegistry contract.
type FederationRegistryRoundOutOfOrder struct {
	Round     uint64
	LastRound uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RoundOutOfOrder(uint64 round, uint64 lastRound)
func FederationRegistryRoundOutOfOrderErrorID() common.Hash {
	return common.HexToHash("0x32338291b0e9591ea8704e273b50b3938c2a6dacee6d1fffdfae1c744b4f790e")
}

// UnpackRoundOutOfOrderError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RoundOutOfOrder(uint64 round, uint64 lastRound)
func (federationRegistry *FederationRegistry) UnpackRoundOutOfOrderError(raw []byte) (*FederationRegistryRoundOutOfOrder, error) {
	out := new(FederationRegistryRoundOutOfOrder)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "RoundOutOfOrder", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistrySiteAlreadyEnrolled represents a SiteAlreadyEnrolled error raised by the FederationRegistry contract.
type FederationRegistrySiteAlreadyEnrolled struct {
	Site common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SiteAlreadyEnrolled(address site)
func FederationRegistrySiteAlreadyEnrolledErrorID() common.Hash {
	return common.HexToHash("0x82220f1ea9ff8c75c69024057682b730e5b2de3c1fda89aa0bfa1461a12d1b60")
}

// UnpackSiteAlreadyEnrolledError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SiteAlreadyEnrolled(address site)
func (federationRegistry *FederationRegistry) UnpackSiteAlreadyEnrolledError(raw []byte) (*FederationRegistrySiteAlreadyEnrolled, error) {
	out := new(FederationRegistrySiteAlreadyEnrolled)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "SiteAlreadyEnrolled", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistrySiteNotEnrolled represents a SiteNotEnrolled error raised by the FederationRegistry contract.
type FederationRegistrySiteNotEnrolled struct {
	Site common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SiteNotEnrolled(address site)
func FederationRegistrySiteNotEnrolledErrorID() common.Hash {
	return common.HexToHash("0x9e7560dc4103daf44fc44ab898492808ef8d277d21e6adec6654c126e57eddb9")
}

// UnpackSiteNotEnrolledError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SiteNotEnrolled(address site)
func (federationRegistry *FederationRegistry) UnpackSiteNotEnrolledError(raw []byte) (*FederationRegistrySiteNotEnrolled, error) {
	out := new(FederationRegistrySiteNotEnrolled)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "SiteNotEnrolled", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryTooManyUpdates represents a TooManyUpdates error raised by the FederationRegistry contract.
type FederationRegistryTooManyUpdates struct {
	Count *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TooManyUpdates(uint256 count)
func FederationRegistryTooManyUpdatesErrorID() common.Hash {
	return common.HexToHash("0xc6106336f83ee33ffad7b6e5cbc2a276b2b572bdfc288eae7305bf23027afcf9")
}

// UnpackTooManyUpdatesError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TooManyUpdates(uint256 count)
func (federationRegistry *FederationRegistry) UnpackTooManyUpdatesError(raw []byte) (*FederationRegistryTooManyUpdates, error) {
	out := new(FederationRegistryTooManyUpdates)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "TooManyUpdates", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroAddress represents a ZeroAddress error raised by the FederationRegistry contract.
type FederationRegistryZeroAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAddress()
func FederationRegistryZeroAddressErrorID() common.Hash {
	return common.HexToHash("0xd92e233df2717d4a40030e20904abd27b68fcbeede117eaaccbbdac9618c8c73")
}

// UnpackZeroAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAddress()
func (federationRegistry *FederationRegistry) UnpackZeroAddressError(raw []byte) (*FederationRegistryZeroAddress, error) {
	out := new(FederationRegistryZeroAddress)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroHash represents a ZeroHash error raised by the FederationRegistry contract.
type FederationRegistryZeroHash struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroHash()
func FederationRegistryZeroHashErrorID() common.Hash {
	return common.HexToHash("0xf1ae58d53750b958ce0ecfcfb8703282d23f4108c501df126d4c9e83b187c78e")
}

// UnpackZeroHashError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroHash()
func (federationRegistry *FederationRegistry) UnpackZeroHashError(raw []byte) (*FederationRegistryZeroHash, error) {
	out := new(FederationRegistryZeroHash)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroHash", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroModelVersion represents a ZeroModelVersion error raised by the FederationRegistry contract.
type FederationRegistryZeroModelVersion struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroModelVersion()
func FederationRegistryZeroModelVersionErrorID() common.Hash {
	return common.HexToHash("0x606590ae04e3603df6d2798bfd0a36faa2f37fd59cc98357c49de0c9dfe459a4")
}

// UnpackZeroModelVersionError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroModelVersion()
func (federationRegistry *FederationRegistry) UnpackZeroModelVersionError(raw []byte) (*FederationRegistryZeroModelVersion, error) {
	out := new(FederationRegistryZeroModelVersion)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroModelVersion", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroRound represents a ZeroRound error raised by the FederationRegistry contract.
type FederationRegistryZeroRound struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRound()
func FederationRegistryZeroRoundErrorID() common.Hash {
	return common.HexToHash("0xeed25e080e92cefc2691c35fa87669ef24f6cbc0529708b21f643a8f35c52675")
}

// UnpackZeroRoundError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRound()
func (federationRegistry *FederationRegistry) UnpackZeroRoundError(raw []byte) (*FederationRegistryZeroRound, error) {
	out := new(FederationRegistryZeroRound)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroRound", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroUpdateHash represents a ZeroUpdateHash error raised by the FederationRegistry contract.
type FederationRegistryZeroUpdateHash struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroUpdateHash(uint256 index)
func FederationRegistryZeroUpdateHashErrorID() common.Hash {
	return common.HexToHash("0x03072dec7bff005252969dc2697a34ade8f2d8afc6e82e493a05f2f28dce0fa2")
}

// UnpackZeroUpdateHashError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroUpdateHash(uint256 index)
func (federationRegistry *FederationRegistry) UnpackZeroUpdateHashError(raw []byte) (*FederationRegistryZeroUpdateHash, error) {
	out := new(FederationRegistryZeroUpdateHash)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroUpdateHash", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// FederationRegistryZeroUpdatesRoot represents a ZeroUpdatesRoot error raised by the FederationRegistry contract.
type FederationRegistryZeroUpdatesRoot struct {
	Round uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroUpdatesRoot(uint64 round)
func FederationRegistryZeroUpdatesRootErrorID() common.Hash {
	return common.HexToHash("0x799d1aba0c4400613f4da77cf857e4eeb2bfbd9d01f0b3226bd0c646009c4790")
}

// UnpackZeroUpdatesRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroUpdatesRoot(uint64 round)
func (federationRegistry *FederationRegistry) UnpackZeroUpdatesRootError(raw []byte) (*FederationRegistryZeroUpdatesRoot, error) {
	out := new(FederationRegistryZeroUpdatesRoot)
	if err := federationRegistry.abi.UnpackIntoInterface(out, "ZeroUpdatesRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}
