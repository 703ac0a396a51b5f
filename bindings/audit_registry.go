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

// AuditRegistryBatch is an auto generated low-level Go binding around an user-defined struct.
type AuditRegistryBatch struct {
	Root        [32]byte
	LeafCount   uint32
	Kind        uint8
	BlockNumber uint64
	Timestamp   uint64
	Submitter   common.Address
}

// AuditRegistryModel is an auto generated low-level Go binding around an user-defined struct.
type AuditRegistryModel struct {
	ModelHash   [32]byte
	Round       uint64
	BlockNumber uint64
	Timestamp   uint64
	Submitter   common.Address
}

// AuditRegistryRecordAnchor is an auto generated low-level Go binding around an user-defined struct.
type AuditRegistryRecordAnchor struct {
	Hash        [32]byte
	Kind        uint8
	BlockNumber uint64
	Timestamp   uint64
	Submitter   common.Address
}

// AuditRegistryMetaData contains all meta data concerning the AuditRegistry contract.
var AuditRegistryMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"AnchorerAlreadyGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"AnchorerNotGranted\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"}],\"name\":\"BatchAlreadyAnchored\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"}],\"name\":\"BatchNotFound\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"}],\"name\":\"ModelAlreadyRegistered\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotAnchorer\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"caller\",\"type\":\"address\"}],\"name\":\"NotOwner\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes16\",\"name\":\"recordId\",\"type\":\"bytes16\"}],\"name\":\"RecordAlreadyAnchored\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroAddress\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroBatchId\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroHash\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroKind\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroLeafCount\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroModelVersion\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRecordId\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"id\",\"type\":\"uint32\"}],\"name\":\"AnchorerGranted\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"AnchorerRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"},{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"leafCount\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"}],\"name\":\"BatchAnchored\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"},{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"name\":\"ModelRegistered\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"previousOwner\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"OwnershipTransferred\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes16\",\"name\":\"recordId\",\"type\":\"bytes16\"},{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"hash\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"}],\"name\":\"RecordAnchored\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"bytes16\",\"name\":\"recordId\",\"type\":\"bytes16\"},{\"internalType\":\"bytes32\",\"name\":\"hash\",\"type\":\"bytes32\"},{\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"}],\"name\":\"anchor\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"uint32\",\"name\":\"leafCount\",\"type\":\"uint32\"},{\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"}],\"name\":\"anchorBatch\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"}],\"name\":\"getBatch\",\"outputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"uint32\",\"name\":\"leafCount\",\"type\":\"uint32\"},{\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"internalType\":\"structAuditRegistry.Batch\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"}],\"name\":\"getModel\",\"outputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"internalType\":\"structAuditRegistry.Model\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes16\",\"name\":\"recordId\",\"type\":\"bytes16\"}],\"name\":\"getRecord\",\"outputs\":[{\"components\":[{\"internalType\":\"bytes32\",\"name\":\"hash\",\"type\":\"bytes32\"},{\"internalType\":\"uint8\",\"name\":\"kind\",\"type\":\"uint8\"},{\"internalType\":\"uint64\",\"name\":\"blockNumber\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"timestamp\",\"type\":\"uint64\"},{\"internalType\":\"address\",\"name\":\"submitter\",\"type\":\"address\"}],\"internalType\":\"structAuditRegistry.RecordAnchor\",\"name\":\"\",\"type\":\"tuple\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"grantAnchorer\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"isAnchorer\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"version\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"modelHash\",\"type\":\"bytes32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"name\":\"registerModel\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"revokeAnchorer\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"newOwner\",\"type\":\"address\"}],\"name\":\"transferOwnership\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"batchId\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"leaf\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"verifyBatchInclusion\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"leaf\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"size\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"verifyInclusion\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"pure\",\"type\":\"function\"}]",
	ID:  "AuditRegistry",
	Bin: "0x608060405234801561000f575f5ffd5b505f80546001600160a01b0319163390811782556040519091907f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0908290a36100573361005c565b610184565b6001600160a01b0381165f9081526001602052604081208054909163ffffffff909116908190036100f9575f80546014906100a390600160a01b900463ffffffff16610154565b825463ffffffff8083166101009490940a84810291021990911617909255835463ffffffff1916811784555f90815260026020526040902080546001600160a01b0386166001600160a01b031990911617905590505b815460ff60201b191664010000000017825560405163ffffffff821681526001600160a01b038416907fe9554ffa668f464eda2c4ba23cb2b13e3b06317480f1ffcc60fb4e17fa05d4ad9060200160405180910390a2505050565b5f63ffffffff821663ffffffff810361017b57634e487b7160e01b5f52601160045260245ffd5b60010192915050565b61117f806101915f395ff3fe608060405234801561000f575f5ffd5b50600436106100cb575f3560e01c80638ceec9e2116100885780639f5591ab116100635780639f5591ab146103e1578063bf4ac85c146104f7578063c080fb061461050a578063f2fde38b1461051d575f5ffd5b80638ceec9e2146103825780638da5cb5b146103955780638eaaf6e3146103af575f5ffd5b80631608e565146100cf5780632127eceb146100e4578063226c11a8146102025780632910f4951461021557806338b64b4314610238578063888775d91461024b575b5f5ffd5b6100e26100dd366004610ecb565b610530565b005b61019b6100f2366004610f1b565b6040805160a0810182525f80825260208201819052918101829052606081018290526080810191909152506001600160801b0319165f908152600460209081526040808320815160a0810183528154815260019091015460ff8116828501526001600160401b03600160281b8204811683850152600160681b820416606083015263ffffffff6101009091041684526002909252909120546001600160a01b0316608082015290565b6040516101f991905f60a0820190508251825260ff60208401511660208301526001600160401b0360408401511660408301526001600160401b03606084015116606083015260018060a01b03608084015116608083015292915050565b60405180910390f35b6100e2610210366004610f4b565b61067c565b610228610223366004610fe6565b61083c565b60405190151581526020016101f9565b6100e2610246366004611048565b6108a5565b61031461025936600461106e565b6040805160c0810182525f80825260208201819052918101829052606081018290526080810182905260a0810191909152506001600160401b039081165f908152600360209081526040808320815160c0810183528154815260019091015463ffffffff8082168386015260ff600160201b83041683850152600160481b820487166060840152600160881b82049096166080830152600160281b9004909416835260029091529020546001600160a01b031660a082015290565b6040516101f991905f60c0820190508251825263ffffffff602084015116602083015260ff60408401511660408301526001600160401b0360608401511660608301526001600160401b03608084015116608083015260018060a01b0360a08401511660a083015292915050565b6100e2610390366004611087565b610967565b5f546040516001600160a01b0390911681526020016101f9565b6102286103bd366004611048565b6001600160a01b03165f90815260016020526040902054600160201b900460ff1690565b6104936103ef36600461106e565b6040805160a0810182525f80825260208201819052918101829052606081018290526080810191909152506001600160401b039081165f908152600560209081526040808320815160a0810183528154815260019091015480861682850152600160601b8104861682840152600160a01b81049095166060820152600160401b90940463ffffffff16835260029091529020546001600160a01b0316608082015290565b6040516101f991905f60a082019050825182526001600160401b0360208401511660208301526001600160401b0360408401511660408301526001600160401b03606084015116606083015260018060a01b03608084015116608083015292915050565b6100e2610505366004611048565b610ad2565b6102286105183660046110b7565b610b7c565b6100e261052b366004611048565b610b98565b5f610539610c44565b9050836001600160401b03165f0361056457604051633032c85760e11b815260040160405180910390fd5b826105825760405163f1ae58d560e01b815260040160405180910390fd5b6001600160401b0384165f9081526005602052604090208054156105c957604051637c3ba3d760e11b81526001600160401b03861660048201526024015b60405180910390fd5b8381556001810180546001600160401b038581166bffffffffffffffffffffffff199092168217600160401b63ffffffff871602176fffffffffffffffffffffffffffffffff60601b1916600160601b4383160267ffffffffffffffff60a01b191617600160a01b428316021790925560405133815290918691908816907f1deaf59bce48a536886bf9318a21c625a457728e06be7b38c956c38ee1e32f6e906020015b60405180910390a45050505050565b5f610685610c44565b9050846001600160401b03165f036106b057604051637a83d67160e01b815260040160405180910390fd5b836106ce5760405163b263ae7360e01b815260040160405180910390fd5b8263ffffffff165f036106f4576040516359b2cadb60e11b815260040160405180910390fd5b8160ff165f036107175760405163d7848a6f60e01b815260040160405180910390fd5b6001600160401b0385165f908152600360205260409020805415610759576040516312aca80f60e21b81526001600160401b03871660048201526024016105c0565b84815560018101805463ffffffff86811664ffffffffff199092168217600160201b60ff88169081029190911770ffffffffffffffffffffffff00000000001916600160281b9287169290920270ffffffffffffffff000000000000000000191691909117600160481b436001600160401b03908116919091029190911767ffffffffffffffff60881b1916600160881b428316021790935560408051928352602083019190915233928892908a16917f03d150b2b817a6547930418d4ef6aa96eacbe9ed71e848f7ed62988aa4111a96910160405180910390a4505050505050565b6001600160401b0385165f90815260036020526040812080548061087e57604051637546caed60e11b81526001600160401b03891660048201526024016105c0565b6001820154610899908890889063ffffffff16888886610c9f565b98975050505050505050565b5f546001600160a01b031633146108d15760405163245aecd360e01b81523360048201526024016105c0565b6001600160a01b0381165f90815260016020526040902054600160201b900460ff1661091b57604051633012fc8b60e01b81526001600160a01b03821660048201526024016105c0565b6001600160a01b0381165f81815260016020526040808220805464ff0000000019169055517f26bbdf2d48a55de217f177df13cd6f86b980571805ad4bad8d7270e3e71a12509190a250565b5f610970610c44565b90506001600160801b0319841661099a57604051635a20304160e01b815260040160405180910390fd5b826109b85760405163f1ae58d560e01b815260040160405180910390fd5b8160ff165f036109db5760405163d7848a6f60e01b815260040160405180910390fd5b6001600160801b031984165f908152600460205260409020805415610a1e5760405162f4c8cd60e11b81526001600160801b0319861660048201526024016105c0565b838155600181018054426001600160401b03908116600160681b0267ffffffffffffffff60681b194392909216600160281b029190911674ffffffffffffffffffffffffffffffff00000000001963ffffffff87166101000264ffffffffff1990941660ff891690811794909417161717909155604051908152339085906001600160801b03198816907f18231da3a509df6940099b782ec91d1e388cb30ddd0f2b96a4297791e3e75baf9060200161066d565b5f546001600160a01b03163314610afe5760405163245aecd360e01b81523360048201526024016105c0565b6001600160a01b038116610b255760405163d92e233d60e01b815260040160405180910390fd5b6001600160a01b0381165f90815260016020526040902054600160201b900460ff1615610b705760405163a0292f1360e01b81526001600160a01b03821660048201526024016105c0565b610b7981610d9b565b50565b5f610b8b878787878787610c9f565b90505b9695505050505050565b5f546001600160a01b03163314610bc45760405163245aecd360e01b81523360048201526024016105c0565b6001600160a01b038116610beb5760405163d92e233d60e01b815260040160405180910390fd5b5f80546040516001600160a01b03808516939216917f8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e091a35f80546001600160a01b0319166001600160a01b0392909216919091179055565b335f90815260016020908152604080832081518083019092525463ffffffff81168252600160201b900460ff16151591810182905290610c9957604051630e5e5f6f60e01b81523360048201526024016105c0565b51919050565b5f848610610cae57505f610b8e565b855f610cbb60018861112e565b9050885f5b86811015610d7f57825f03610cdb575f945050505050610b8e565b8360011660011480610cec57508284145b15610d4a57610d13888883818110610d0657610d06611147565b9050602002013583610e93565b9150836001165f03610d45575b60018416158015610d3057508315155b15610d4557600193841c939290921c91610d20565b610d6f565b610d6c82898984818110610d6057610d60611147565b90506020020135610e93565b91505b600193841c9392831c9201610cc0565b5081158015610d8d57508481145b9a9950505050505050505050565b6001600160a01b0381165f9081526001602052604081208054909163ffffffff90911690819003610e38575f8054601490610de290600160a01b900463ffffffff1661115b565b825463ffffffff8083166101009490940a84810291021990911617909255835463ffffffff1916811784555f90815260026020526040902080546001600160a01b0386166001600160a01b031990911617905590505b815464ff000000001916600160201b17825560405163ffffffff821681526001600160a01b038416907fe9554ffa668f464eda2c4ba23cb2b13e3b06317480f1ffcc60fb4e17fa05d4ad9060200160405180910390a2505050565b5f6040516001815360018101939093525060218201526041902090565b80356001600160401b0381168114610ec6575f5ffd5b919050565b5f5f5f60608486031215610edd575f5ffd5b610ee684610eb0565b925060208401359150610efb60408501610eb0565b90509250925092565b80356001600160801b031981168114610ec6575f5ffd5b5f60208284031215610f2b575f5ffd5b610f3482610f04565b9392505050565b803560ff81168114610ec6575f5ffd5b5f5f5f5f60808587031215610f5e575f5ffd5b610f6785610eb0565b935060208501359250604085013563ffffffff81168114610f86575f5ffd5b9150610f9460608601610f3b565b905092959194509250565b5f5f83601f840112610faf575f5ffd5b5081356001600160401b03811115610fc5575f5ffd5b6020830191508360208260051b8501011115610fdf575f5ffd5b9250929050565b5f5f5f5f5f60808688031215610ffa575f5ffd5b61100386610eb0565b9450602086013593506040860135925060608601356001600160401b0381111561102b575f5ffd5b61103788828901610f9f565b969995985093965092949392505050565b5f60208284031215611058575f5ffd5b81356001600160a01b0381168114610f34575f5ffd5b5f6020828403121561107e575f5ffd5b610f3482610eb0565b5f5f5f60608486031215611099575f5ffd5b6110a284610f04565b925060208401359150610efb60408501610f3b565b5f5f5f5f5f5f60a087890312156110cc575f5ffd5b86359550602087013594506040870135935060608701356001600160401b038111156110f6575f5ffd5b61110289828a01610f9f565b979a9699509497949695608090950135949350505050565b634e487b7160e01b5f52601160045260245ffd5b818103818111156111415761114161111a565b92915050565b634e487b7160e01b5f52603260045260245ffd5b5f63ffffffff821663ffffffff81036111765761117661111a565b6001019291505056",
}

// AuditRegistry is an auto generated Go binding around an Ethereum contract.
type AuditRegistry struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *AuditRegistry) GetABI() abi.ABI {
	return c.abi
}

// NewAuditRegistry creates a new instance of AuditRegistry.
func NewAuditRegistry() *AuditRegistry {
	parsed, err := AuditRegistryMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &AuditRegistry{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *AuditRegistry) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8ceec9e2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function anchor(bytes16 recordId, bytes32 hash, uint8 kind) returns()
func (auditRegistry *AuditRegistry) PackAnchor(recordId [16]byte, hash [32]byte, kind uint8) []byte {
	enc, err := auditRegistry.abi.Pack("anchor", recordId, hash, kind)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAnchor is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8ceec9e2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function anchor(bytes16 recordId, bytes32 hash, uint8 kind) returns()
func (auditRegistry *AuditRegistry) TryPackAnchor(recordId [16]byte, hash [32]byte, kind uint8) ([]byte, error) {
	return auditRegistry.abi.Pack("anchor", recordId, hash, kind)
}

// PackAnchorBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x226c11a8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function anchorBatch(uint64 batchId, bytes32 root, uint32 leafCount, uint8 kind) returns()
func (auditRegistry *AuditRegistry) PackAnchorBatch(batchId uint64, root [32]byte, leafCount uint32, kind uint8) []byte {
	enc, err := auditRegistry.abi.Pack("anchorBatch", batchId, root, leafCount, kind)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAnchorBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x226c11a8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function anchorBatch(uint64 batchId, bytes32 root, uint32 leafCount, uint8 kind) returns()
func (auditRegistry *AuditRegistry) TryPackAnchorBatch(batchId uint64, root [32]byte, leafCount uint32, kind uint8) ([]byte, error) {
	return auditRegistry.abi.Pack("anchorBatch", batchId, root, leafCount, kind)
}

// PackGetBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x888775d9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getBatch(uint64 batchId) view returns((bytes32,uint32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) PackGetBatch(batchId uint64) []byte {
	enc, err := auditRegistry.abi.Pack("getBatch", batchId)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetBatch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x888775d9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getBatch(uint64 batchId) view returns((bytes32,uint32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) TryPackGetBatch(batchId uint64) ([]byte, error) {
	return auditRegistry.abi.Pack("getBatch", batchId)
}

// UnpackGetBatch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x888775d9.
//
// Solidity: function getBatch(uint64 batchId) view returns((bytes32,uint32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) UnpackGetBatch(data []byte) (AuditRegistryBatch, error) {
	out, err := auditRegistry.abi.Unpack("getBatch", data)
	if err != nil {
		return *new(AuditRegistryBatch), err
	}
	out0 := *abi.ConvertType(out[0], new(AuditRegistryBatch)).(*AuditRegistryBatch)
	return out0, nil
}

// PackGetModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9f5591ab.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getModel(uint64 version) view returns((bytes32,uint64,uint64,uint64,address))
func (auditRegistry *AuditRegistry) PackGetModel(version uint64) []byte {
	enc, err := auditRegistry.abi.Pack("getModel", version)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9f5591ab.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getModel(uint64 version) view returns((bytes32,uint64,uint64,uint64,address))
func (auditRegistry *AuditRegistry) TryPackGetModel(version uint64) ([]byte, error) {
	return auditRegistry.abi.Pack("getModel", version)
}

// UnpackGetModel is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9f5591ab.
//
// Solidity: function getModel(uint64 version) view returns((bytes32,uint64,uint64,uint64,address))
func (auditRegistry *AuditRegistry) UnpackGetModel(data []byte) (AuditRegistryModel, error) {
	out, err := auditRegistry.abi.Unpack("getModel", data)
	if err != nil {
		return *new(AuditRegistryModel), err
	}
	out0 := *abi.ConvertType(out[0], new(AuditRegistryModel)).(*AuditRegistryModel)
	return out0, nil
}

// PackGetRecord is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2127eceb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function getRecord(bytes16 recordId) view returns((bytes32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) PackGetRecord(recordId [16]byte) []byte {
	enc, err := auditRegistry.abi.Pack("getRecord", recordId)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGetRecord is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2127eceb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function getRecord(bytes16 recordId) view returns((bytes32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) TryPackGetRecord(recordId [16]byte) ([]byte, error) {
	return auditRegistry.abi.Pack("getRecord", recordId)
}

// UnpackGetRecord is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2127eceb.
//
// Solidity: function getRecord(bytes16 recordId) view returns((bytes32,uint8,uint64,uint64,address))
func (auditRegistry *AuditRegistry) UnpackGetRecord(data []byte) (AuditRegistryRecordAnchor, error) {
	out, err := auditRegistry.abi.Unpack("getRecord", data)
	if err != nil {
		return *new(AuditRegistryRecordAnchor), err
	}
	out0 := *abi.ConvertType(out[0], new(AuditRegistryRecordAnchor)).(*AuditRegistryRecordAnchor)
	return out0, nil
}

// PackGrantAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbf4ac85c.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function grantAnchorer(address account) returns()
func (auditRegistry *AuditRegistry) PackGrantAnchorer(account common.Address) []byte {
	enc, err := auditRegistry.abi.Pack("grantAnchorer", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGrantAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbf4ac85c.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function grantAnchorer(address account) returns()
func (auditRegistry *AuditRegistry) TryPackGrantAnchorer(account common.Address) ([]byte, error) {
	return auditRegistry.abi.Pack("grantAnchorer", account)
}

// PackIsAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8eaaf6e3.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function isAnchorer(address account) view returns(bool)
func (auditRegistry *AuditRegistry) PackIsAnchorer(account common.Address) []byte {
	enc, err := auditRegistry.abi.Pack("isAnchorer", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackIsAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8eaaf6e3.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function isAnchorer(address account) view returns(bool)
func (auditRegistry *AuditRegistry) TryPackIsAnchorer(account common.Address) ([]byte, error) {
	return auditRegistry.abi.Pack("isAnchorer", account)
}

// UnpackIsAnchorer is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8eaaf6e3.
//
// Solidity: function isAnchorer(address account) view returns(bool)
func (auditRegistry *AuditRegistry) UnpackIsAnchorer(data []byte) (bool, error) {
	out, err := auditRegistry.abi.Unpack("isAnchorer", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function owner() view returns(address)
func (auditRegistry *AuditRegistry) PackOwner() []byte {
	enc, err := auditRegistry.abi.Pack("owner")
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
func (auditRegistry *AuditRegistry) TryPackOwner() ([]byte, error) {
	return auditRegistry.abi.Pack("owner")
}

// UnpackOwner is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (auditRegistry *AuditRegistry) UnpackOwner(data []byte) (common.Address, error) {
	out, err := auditRegistry.abi.Unpack("owner", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackRegisterModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1608e565.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function registerModel(uint64 version, bytes32 modelHash, uint64 round) returns()
func (auditRegistry *AuditRegistry) PackRegisterModel(version uint64, modelHash [32]byte, round uint64) []byte {
	enc, err := auditRegistry.abi.Pack("registerModel", version, modelHash, round)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRegisterModel is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1608e565.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function registerModel(uint64 version, bytes32 modelHash, uint64 round) returns()
func (auditRegistry *AuditRegistry) TryPackRegisterModel(version uint64, modelHash [32]byte, round uint64) ([]byte, error) {
	return auditRegistry.abi.Pack("registerModel", version, modelHash, round)
}

// PackRevokeAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x38b64b43.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokeAnchorer(address account) returns()
func (auditRegistry *AuditRegistry) PackRevokeAnchorer(account common.Address) []byte {
	enc, err := auditRegistry.abi.Pack("revokeAnchorer", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokeAnchorer is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x38b64b43.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokeAnchorer(address account) returns()
func (auditRegistry *AuditRegistry) TryPackRevokeAnchorer(account common.Address) ([]byte, error) {
	return auditRegistry.abi.Pack("revokeAnchorer", account)
}

// PackTransferOwnership is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf2fde38b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function transferOwnership(address newOwner) returns()
func (auditRegistry *AuditRegistry) PackTransferOwnership(newOwner common.Address) []byte {
	enc, err := auditRegistry.abi.Pack("transferOwnership", newOwner)
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
func (auditRegistry *AuditRegistry) TryPackTransferOwnership(newOwner common.Address) ([]byte, error) {
	return auditRegistry.abi.Pack("transferOwnership", newOwner)
}

// PackVerifyBatchInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2910f495.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function verifyBatchInclusion(uint64 batchId, bytes32 leaf, uint256 index, bytes32[] proof) view returns(bool)
func (auditRegistry *AuditRegistry) PackVerifyBatchInclusion(batchId uint64, leaf [32]byte, index *big.Int, proof [][32]byte) []byte {
	enc, err := auditRegistry.abi.Pack("verifyBatchInclusion", batchId, leaf, index, proof)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVerifyBatchInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2910f495.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function verifyBatchInclusion(uint64 batchId, bytes32 leaf, uint256 index, bytes32[] proof) view returns(bool)
func (auditRegistry *AuditRegistry) TryPackVerifyBatchInclusion(batchId uint64, leaf [32]byte, index *big.Int, proof [][32]byte) ([]byte, error) {
	return auditRegistry.abi.Pack("verifyBatchInclusion", batchId, leaf, index, proof)
}

// UnpackVerifyBatchInclusion is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2910f495.
//
// Solidity: function verifyBatchInclusion(uint64 batchId, bytes32 leaf, uint256 index, bytes32[] proof) view returns(bool)
func (auditRegistry *AuditRegistry) UnpackVerifyBatchInclusion(data []byte) (bool, error) {
	out, err := auditRegistry.abi.Unpack("verifyBatchInclusion", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackVerifyInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc080fb06.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] proof, bytes32 root) pure returns(bool)
func (auditRegistry *AuditRegistry) PackVerifyInclusion(leaf [32]byte, index *big.Int, size *big.Int, proof [][32]byte, root [32]byte) []byte {
	enc, err := auditRegistry.abi.Pack("verifyInclusion", leaf, index, size, proof, root)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVerifyInclusion is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc080fb06.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] proof, bytes32 root) pure returns(bool)
func (auditRegistry *AuditRegistry) TryPackVerifyInclusion(leaf [32]byte, index *big.Int, size *big.Int, proof [][32]byte, root [32]byte) ([]byte, error) {
	return auditRegistry.abi.Pack("verifyInclusion", leaf, index, size, proof, root)
}

// UnpackVerifyInclusion is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc080fb06.
//
// Solidity: function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] proof, bytes32 root) pure returns(bool)
func (auditRegistry *AuditRegistry) UnpackVerifyInclusion(data []byte) (bool, error) {
	out, err := auditRegistry.abi.Unpack("verifyInclusion", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// AuditRegistryAnchorerGranted represents a AnchorerGranted event raised by the AuditRegistry contract.
type AuditRegistryAnchorerGranted struct {
	Account common.Address
	Id      uint32
	Raw     *types.Log // Blockchain specific contextual infos
}

const AuditRegistryAnchorerGrantedEventName = "AnchorerGranted"

// ContractEventName returns the user-defined event name.
func (AuditRegistryAnchorerGranted) ContractEventName() string {
	return AuditRegistryAnchorerGrantedEventName
}

// UnpackAnchorerGrantedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event AnchorerGranted(address indexed account, uint32 id)
func (auditRegistry *AuditRegistry) UnpackAnchorerGrantedEvent(log *types.Log) (*AuditRegistryAnchorerGranted, error) {
	event := "AnchorerGranted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryAnchorerGranted)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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

// AuditRegistryAnchorerRevoked represents a AnchorerRevoked event raised by the AuditRegistry contract.
type AuditRegistryAnchorerRevoked struct {
	Account common.Address
	Raw     *types.Log // Blockchain specific contextual infos
}

const AuditRegistryAnchorerRevokedEventName = "AnchorerRevoked"

// ContractEventName returns the user-defined event name.
func (AuditRegistryAnchorerRevoked) ContractEventName() string {
	return AuditRegistryAnchorerRevokedEventName
}

// UnpackAnchorerRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event AnchorerRevoked(address indexed account)
func (auditRegistry *AuditRegistry) UnpackAnchorerRevokedEvent(log *types.Log) (*AuditRegistryAnchorerRevoked, error) {
	event := "AnchorerRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryAnchorerRevoked)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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

// AuditRegistryBatchAnchored represents a BatchAnchored event raised by the AuditRegistry contract.
type AuditRegistryBatchAnchored struct {
	BatchId   uint64
	Root      [32]byte
	Submitter common.Address
	LeafCount uint32
	Kind      uint8
	Raw       *types.Log // Blockchain specific contextual infos
}

const AuditRegistryBatchAnchoredEventName = "BatchAnchored"

// ContractEventName returns the user-defined event name.
func (AuditRegistryBatchAnchored) ContractEventName() string {
	return AuditRegistryBatchAnchoredEventName
}

// UnpackBatchAnchoredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event BatchAnchored(uint64 indexed batchId, bytes32 indexed root, address indexed submitter, uint32 leafCount, uint8 kind)
func (auditRegistry *AuditRegistry) UnpackBatchAnchoredEvent(log *types.Log) (*AuditRegistryBatchAnchored, error) {
	event := "BatchAnchored"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryBatchAnchored)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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

// AuditRegistryModelRegistered represents a ModelRegistered event raised by the AuditRegistry contract.
type AuditRegistryModelRegistered struct {
	Version   uint64
	ModelHash [32]byte
	Round     uint64
	Submitter common.Address
	Raw       *types.Log // Blockchain specific contextual infos
}

const AuditRegistryModelRegisteredEventName = "ModelRegistered"

// ContractEventName returns the user-defined event name.
func (AuditRegistryModelRegistered) ContractEventName() string {
	return AuditRegistryModelRegisteredEventName
}

// UnpackModelRegisteredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event ModelRegistered(uint64 indexed version, bytes32 indexed modelHash, uint64 indexed round, address submitter)
func (auditRegistry *AuditRegistry) UnpackModelRegisteredEvent(log *types.Log) (*AuditRegistryModelRegistered, error) {
	event := "ModelRegistered"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryModelRegistered)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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

// AuditRegistryOwnershipTransferred represents a OwnershipTransferred event raised by the AuditRegistry contract.
type AuditRegistryOwnershipTransferred struct {
	PreviousOwner common.Address
	NewOwner      common.Address
	Raw           *types.Log // Blockchain specific contextual infos
}

const AuditRegistryOwnershipTransferredEventName = "OwnershipTransferred"

// ContractEventName returns the user-defined event name.
func (AuditRegistryOwnershipTransferred) ContractEventName() string {
	return AuditRegistryOwnershipTransferredEventName
}

// UnpackOwnershipTransferredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)
func (auditRegistry *AuditRegistry) UnpackOwnershipTransferredEvent(log *types.Log) (*AuditRegistryOwnershipTransferred, error) {
	event := "OwnershipTransferred"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryOwnershipTransferred)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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

// AuditRegistryRecordAnchored represents a RecordAnchored event raised by the AuditRegistry contract.
type AuditRegistryRecordAnchored struct {
	RecordId  [16]byte
	Hash      [32]byte
	Submitter common.Address
	Kind      uint8
	Raw       *types.Log // Blockchain specific contextual infos
}

const AuditRegistryRecordAnchoredEventName = "RecordAnchored"

// ContractEventName returns the user-defined event name.
func (AuditRegistryRecordAnchored) ContractEventName() string {
	return AuditRegistryRecordAnchoredEventName
}

// UnpackRecordAnchoredEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RecordAnchored(bytes16 indexed recordId, bytes32 indexed hash, address indexed submitter, uint8 kind)
func (auditRegistry *AuditRegistry) UnpackRecordAnchoredEvent(log *types.Log) (*AuditRegistryRecordAnchored, error) {
	event := "RecordAnchored"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != auditRegistry.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(AuditRegistryRecordAnchored)
	if len(log.Data) > 0 {
		if err := auditRegistry.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range auditRegistry.abi.Events[event].Inputs {
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
func (auditRegistry *AuditRegistry) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["AnchorerAlreadyGranted"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackAnchorerAlreadyGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["AnchorerNotGranted"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackAnchorerNotGrantedError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["BatchAlreadyAnchored"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackBatchAlreadyAnchoredError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["BatchNotFound"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackBatchNotFoundError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ModelAlreadyRegistered"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackModelAlreadyRegisteredError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["NotAnchorer"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackNotAnchorerError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["NotOwner"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackNotOwnerError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["RecordAlreadyAnchored"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackRecordAlreadyAnchoredError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroAddress"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroAddressError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroBatchId"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroBatchIdError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroHash"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroHashError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroKind"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroKindError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroLeafCount"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroLeafCountError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroModelVersion"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroModelVersionError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroRecordId"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroRecordIdError(raw[4:])
	}
	if bytes.Equal(raw[:4], auditRegistry.abi.Errors["ZeroRoot"].ID.Bytes()[:4]) {
		return auditRegistry.UnpackZeroRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// AuditRegistryAnchorerAlreadyGranted represents a AnchorerAlreadyGranted error raised by the AuditRegistry contract.
type AuditRegistryAnchorerAlreadyGranted struct {
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AnchorerAlreadyGranted(address account)
func AuditRegistryAnchorerAlreadyGrantedErrorID() common.Hash {
	return common.HexToHash("0xa0292f131d90a9e1bc983ebe2c922c46b97abff9d72129eb30fed4f20896eac6")
}

// UnpackAnchorerAlreadyGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AnchorerAlreadyGranted(address account)
func (auditRegistry *AuditRegistry) UnpackAnchorerAlreadyGrantedError(raw []byte) (*AuditRegistryAnchorerAlreadyGranted, error) {
	out := new(AuditRegistryAnchorerAlreadyGranted)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "AnchorerAlreadyGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryAnchorerNotGranted represents a AnchorerNotGranted error raised by the AuditRegistry contract.
type AuditRegistryAnchorerNotGranted struct {
	Account common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error AnchorerNotGranted(address account)
func AuditRegistryAnchorerNotGrantedErrorID() common.Hash {
	return common.HexToHash("0x3012fc8bb5dd75c0c034d7c58aa1982d269d598072100fabc24d4de862d1e083")
}

// UnpackAnchorerNotGrantedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error AnchorerNotGranted(address account)
func (auditRegistry *AuditRegistry) UnpackAnchorerNotGrantedError(raw []byte) (*AuditRegistryAnchorerNotGranted, error) {
	out := new(AuditRegistryAnchorerNotGranted)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "AnchorerNotGranted", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryBatchAlreadyAnchored represents a BatchAlreadyAnchored error raised by the AuditRegistry contract.
type AuditRegistryBatchAlreadyAnchored struct {
	BatchId uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BatchAlreadyAnchored(uint64 batchId)
func AuditRegistryBatchAlreadyAnchoredErrorID() common.Hash {
	return common.HexToHash("0x4ab2a03c2de6279a2f2dd6bf62ee44bd1ac5e3b3039be9e4d6fa5d1941e46d5c")
}

// UnpackBatchAlreadyAnchoredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BatchAlreadyAnchored(uint64 batchId)
func (auditRegistry *AuditRegistry) UnpackBatchAlreadyAnchoredError(raw []byte) (*AuditRegistryBatchAlreadyAnchored, error) {
	out := new(AuditRegistryBatchAlreadyAnchored)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "BatchAlreadyAnchored", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryBatchNotFound represents a BatchNotFound error raised by the AuditRegistry contract.
type AuditRegistryBatchNotFound struct {
	BatchId uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BatchNotFound(uint64 batchId)
func AuditRegistryBatchNotFoundErrorID() common.Hash {
	return common.HexToHash("0xea8d95da511d380075dcf26a9397255c441c3e44d9dc71771db5ff1cb31b97fc")
}

// UnpackBatchNotFoundError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BatchNotFound(uint64 batchId)
func (auditRegistry *AuditRegistry) UnpackBatchNotFoundError(raw []byte) (*AuditRegistryBatchNotFound, error) {
	out := new(AuditRegistryBatchNotFound)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "BatchNotFound", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryModelAlreadyRegistered represents a ModelAlreadyRegistered error raised by the AuditRegistry contract.
type AuditRegistryModelAlreadyRegistered struct {
	Version uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ModelAlreadyRegistered(uint64 version)
func AuditRegistryModelAlreadyRegisteredErrorID() common.Hash {
	return common.HexToHash("0xf87747ae10f17a8c53f988271377b7a16ebeaf916e57fff3bce763abcdefbd59")
}

// UnpackModelAlreadyRegisteredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ModelAlreadyRegistered(uint64 version)
func (auditRegistry *AuditRegistry) UnpackModelAlreadyRegisteredError(raw []byte) (*AuditRegistryModelAlreadyRegistered, error) {
	out := new(AuditRegistryModelAlreadyRegistered)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ModelAlreadyRegistered", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryNotAnchorer represents a NotAnchorer error raised by the AuditRegistry contract.
type AuditRegistryNotAnchorer struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotAnchorer(address caller)
func AuditRegistryNotAnchorerErrorID() common.Hash {
	return common.HexToHash("0x0e5e5f6fb7b58e86a564686afc7a504f61673ce48074764f6af98ea30d68fcd6")
}

// UnpackNotAnchorerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotAnchorer(address caller)
func (auditRegistry *AuditRegistry) UnpackNotAnchorerError(raw []byte) (*AuditRegistryNotAnchorer, error) {
	out := new(AuditRegistryNotAnchorer)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "NotAnchorer", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryNotOwner represents a NotOwner error raised by the AuditRegistry contract.
type AuditRegistryNotOwner struct {
	Caller common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotOwner(address caller)
func AuditRegistryNotOwnerErrorID() common.Hash {
	return common.HexToHash("0x245aecd3fabbd17d6c3c92dc7f0ab916ea8cbf6fc1862c8b56893090ac3fff4c")
}

// UnpackNotOwnerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotOwner(address caller)
func (auditRegistry *AuditRegistry) UnpackNotOwnerError(raw []byte) (*AuditRegistryNotOwner, error) {
	out := new(AuditRegistryNotOwner)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "NotOwner", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryRecordAlreadyAnchored represents a RecordAlreadyAnchored error raised by the AuditRegistry contract.
type AuditRegistryRecordAlreadyAnchored struct {
	RecordId [16]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error RecordAlreadyAnchored(bytes16 recordId)
func AuditRegistryRecordAlreadyAnchoredErrorID() common.Hash {
	return common.HexToHash("0x01e9919a620b5038732b1b3df1322551b819706c2ce7d8ecf2459c4db49b1c0b")
}

// UnpackRecordAlreadyAnchoredError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error RecordAlreadyAnchored(bytes16 recordId)
func (auditRegistry *AuditRegistry) UnpackRecordAlreadyAnchoredError(raw []byte) (*AuditRegistryRecordAlreadyAnchored, error) {
	out := new(AuditRegistryRecordAlreadyAnchored)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "RecordAlreadyAnchored", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroAddress represents a ZeroAddress error raised by the AuditRegistry contract.
type AuditRegistryZeroAddress struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroAddress()
func AuditRegistryZeroAddressErrorID() common.Hash {
	return common.HexToHash("0xd92e233df2717d4a40030e20904abd27b68fcbeede117eaaccbbdac9618c8c73")
}

// UnpackZeroAddressError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroAddress()
func (auditRegistry *AuditRegistry) UnpackZeroAddressError(raw []byte) (*AuditRegistryZeroAddress, error) {
	out := new(AuditRegistryZeroAddress)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroAddress", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroBatchId represents a ZeroBatchId error raised by the AuditRegistry contract.
type AuditRegistryZeroBatchId struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroBatchId()
func AuditRegistryZeroBatchIdErrorID() common.Hash {
	return common.HexToHash("0x7a83d671b1b97f3798a48f18a5762394d487aca0ad0d52371a897caf3581fbfa")
}

// UnpackZeroBatchIdError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroBatchId()
func (auditRegistry *AuditRegistry) UnpackZeroBatchIdError(raw []byte) (*AuditRegistryZeroBatchId, error) {
	out := new(AuditRegistryZeroBatchId)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroBatchId", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroHash represents a ZeroHash error raised by the AuditRegistry contract.
type AuditRegistryZeroHash struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroHash()
func AuditRegistryZeroHashErrorID() common.Hash {
	return common.HexToHash("0xf1ae58d53750b958ce0ecfcfb8703282d23f4108c501df126d4c9e83b187c78e")
}

// UnpackZeroHashError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroHash()
func (auditRegistry *AuditRegistry) UnpackZeroHashError(raw []byte) (*AuditRegistryZeroHash, error) {
	out := new(AuditRegistryZeroHash)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroHash", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroKind represents a ZeroKind error raised by the AuditRegistry contract.
type AuditRegistryZeroKind struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroKind()
func AuditRegistryZeroKindErrorID() common.Hash {
	return common.HexToHash("0xd7848a6f4db36f8acef7d20e23948eec89f3ce78dd4b9e4cb0b40cc884c9aad8")
}

// UnpackZeroKindError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroKind()
func (auditRegistry *AuditRegistry) UnpackZeroKindError(raw []byte) (*AuditRegistryZeroKind, error) {
	out := new(AuditRegistryZeroKind)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroKind", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroLeafCount represents a ZeroLeafCount error raised by the AuditRegistry contract.
type AuditRegistryZeroLeafCount struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroLeafCount()
func AuditRegistryZeroLeafCountErrorID() common.Hash {
	return common.HexToHash("0xb36595b625e9d547f57826cadf82ff5442605e393d9b2d7aef150f71820f9313")
}

// UnpackZeroLeafCountError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroLeafCount()
func (auditRegistry *AuditRegistry) UnpackZeroLeafCountError(raw []byte) (*AuditRegistryZeroLeafCount, error) {
	out := new(AuditRegistryZeroLeafCount)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroLeafCount", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroModelVersion represents a ZeroModelVersion error raised by the AuditRegistry contract.
type AuditRegistryZeroModelVersion struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroModelVersion()
func AuditRegistryZeroModelVersionErrorID() common.Hash {
	return common.HexToHash("0x606590ae04e3603df6d2798bfd0a36faa2f37fd59cc98357c49de0c9dfe459a4")
}

// UnpackZeroModelVersionError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroModelVersion()
func (auditRegistry *AuditRegistry) UnpackZeroModelVersionError(raw []byte) (*AuditRegistryZeroModelVersion, error) {
	out := new(AuditRegistryZeroModelVersion)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroModelVersion", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroRecordId represents a ZeroRecordId error raised by the AuditRegistry contract.
type AuditRegistryZeroRecordId struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRecordId()
func AuditRegistryZeroRecordIdErrorID() common.Hash {
	return common.HexToHash("0x5a2030410744545c5404652a3eb5122d8505a84bbcc62bd488a355f4f08f391f")
}

// UnpackZeroRecordIdError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRecordId()
func (auditRegistry *AuditRegistry) UnpackZeroRecordIdError(raw []byte) (*AuditRegistryZeroRecordId, error) {
	out := new(AuditRegistryZeroRecordId)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroRecordId", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditRegistryZeroRoot represents a ZeroRoot error raised by the AuditRegistry contract.
type AuditRegistryZeroRoot struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRoot()
func AuditRegistryZeroRootErrorID() common.Hash {
	return common.HexToHash("0xb263ae738e814ca9af6ee56bb85daa47624e790421913c947dcba2aac07cfdbd")
}

// UnpackZeroRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRoot()
func (auditRegistry *AuditRegistry) UnpackZeroRootError(raw []byte) (*AuditRegistryZeroRoot, error) {
	out := new(AuditRegistryZeroRoot)
	if err := auditRegistry.abi.UnpackIntoInterface(out, "ZeroRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}
