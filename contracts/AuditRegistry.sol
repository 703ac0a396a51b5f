// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title AuditRegistry: tamper-evidence anchors for idsledger records.
/// @notice An owner grants and revokes the anchoring role. Anchorers write
/// Merkle batch roots (anchorBatch), single record hashes (anchor) and global
/// model hashes (registerModel). Every entry is written once and never
/// changes; each refuses zero inputs and duplicates with a custom error.
/// Inclusion proofs follow RFC 6962 with keccak256:
///   leaf = keccak256(0x00 || canonical record bytes)
///   node = keccak256(0x01 || left || right)
/// and verifyInclusion agrees bit for bit with idsledger's Go verifier
/// (package anchor).
contract AuditRegistry {
    /// @dev Batch storage: two slots. The submitter is kept as the 32-bit id
    /// the anchorer received when first granted (see _anchorers), which is
    /// what lets leafCount, kind, block number and time share one slot.
    struct BatchSlot {
        bytes32 root;
        uint32 leafCount;
        uint8 kind;
        uint32 submitterId;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @dev Record anchor storage: two slots.
    struct RecordSlot {
        bytes32 hash;
        uint8 kind;
        uint32 submitterId;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @dev Model entry storage: two slots.
    struct ModelSlot {
        bytes32 modelHash;
        uint64 round;
        uint32 submitterId;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @dev Anchoring role of one account. id is assigned on the first grant
    /// and kept for ever, so past entries still name their submitter after
    /// a revoke; active says whether the account may anchor now.
    struct Anchorer {
        uint32 id;
        bool active;
    }

    /// @notice A Merkle batch as anchored. root == 0 means "not anchored".
    struct Batch {
        bytes32 root;
        uint32 leafCount;
        uint8 kind;
        uint64 blockNumber;
        uint64 timestamp;
        address submitter;
    }

    /// @notice A single record anchor. hash == 0 means "not anchored".
    struct RecordAnchor {
        bytes32 hash;
        uint8 kind;
        uint64 blockNumber;
        uint64 timestamp;
        address submitter;
    }

    /// @notice A global model version. modelHash == 0 means "not registered".
    struct Model {
        bytes32 modelHash;
        uint64 round;
        uint64 blockNumber;
        uint64 timestamp;
        address submitter;
    }

    error NotOwner(address caller);
    error NotAnchorer(address caller);
    error ZeroAddress();
    error AnchorerAlreadyGranted(address account);
    error AnchorerNotGranted(address account);
    error ZeroBatchId();
    error ZeroRoot();
    error ZeroLeafCount();
    error ZeroKind();
    error BatchAlreadyAnchored(uint64 batchId);
    error BatchNotFound(uint64 batchId);
    error ZeroRecordId();
    error ZeroHash();
    error RecordAlreadyAnchored(bytes16 recordId);
    error ZeroModelVersion();
    error ModelAlreadyRegistered(uint64 version);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event AnchorerGranted(address indexed account, uint32 id);
    event AnchorerRevoked(address indexed account);
    event BatchAnchored(
        uint64 indexed batchId, bytes32 indexed root, address indexed submitter, uint32 leafCount, uint8 kind
    );
    event RecordAnchored(bytes16 indexed recordId, bytes32 indexed hash, address indexed submitter, uint8 kind);
    event ModelRegistered(uint64 indexed version, bytes32 indexed modelHash, uint64 indexed round, address submitter);

    address private _owner;
    uint32 private _anchorerCount;
    mapping(address => Anchorer) private _anchorers;
    mapping(uint32 => address) private _submitters;
    mapping(uint64 => BatchSlot) private _batches;
    mapping(bytes16 => RecordSlot) private _records;
    mapping(uint64 => ModelSlot) private _models;

    /// @notice The deployer becomes owner and is granted the anchoring role.
    constructor() {
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        _grant(msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    // ---- ownership and roles ----

    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Hands the contract to newOwner (single step; refuses zero).
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }

    /// @notice Lets account anchor. Reverts AnchorerAlreadyGranted if it can.
    function grantAnchorer(address account) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        if (_anchorers[account].active) revert AnchorerAlreadyGranted(account);
        _grant(account);
    }

    /// @notice Stops account from anchoring; its past entries keep naming it.
    /// Reverts AnchorerNotGranted if it cannot anchor.
    function revokeAnchorer(address account) external onlyOwner {
        if (!_anchorers[account].active) revert AnchorerNotGranted(account);
        _anchorers[account].active = false;
        emit AnchorerRevoked(account);
    }

    function isAnchorer(address account) external view returns (bool) {
        return _anchorers[account].active;
    }

    function _grant(address account) private {
        Anchorer storage a = _anchorers[account];
        uint32 id = a.id;
        if (id == 0) {
            id = ++_anchorerCount;
            a.id = id;
            _submitters[id] = account;
        }
        a.active = true;
        emit AnchorerGranted(account, id);
    }

    /// @dev Returns the caller's submitter id, reverting NotAnchorer unless
    /// the caller holds the role now.
    function _anchorerId() private view returns (uint32) {
        Anchorer memory a = _anchorers[msg.sender];
        if (!a.active) revert NotAnchorer(msg.sender);
        return a.id;
    }

    // ---- anchoring ----

    /// @notice Anchors the Merkle root of batch batchId over leafCount leaves
    /// of record kind kind. Reverts ZeroBatchId, ZeroRoot, ZeroLeafCount,
    /// ZeroKind, BatchAlreadyAnchored or NotAnchorer; a batch id is
    /// written at most once, ever.
    function anchorBatch(uint64 batchId, bytes32 root, uint32 leafCount, uint8 kind) external {
        uint32 submitterId = _anchorerId();
        if (batchId == 0) revert ZeroBatchId();
        if (root == bytes32(0)) revert ZeroRoot();
        if (leafCount == 0) revert ZeroLeafCount();
        if (kind == 0) revert ZeroKind();
        BatchSlot storage b = _batches[batchId];
        if (b.root != bytes32(0)) revert BatchAlreadyAnchored(batchId);
        b.root = root;
        b.leafCount = leafCount;
        b.kind = kind;
        b.submitterId = submitterId;
        b.blockNumber = uint64(block.number);
        b.timestamp = uint64(block.timestamp);
        emit BatchAnchored(batchId, root, msg.sender, leafCount, kind);
    }

    /// @notice Anchors one record's leaf hash (per-record mode). Reverts
    /// ZeroRecordId, ZeroHash, ZeroKind, RecordAlreadyAnchored or NotAnchorer.
    function anchor(bytes16 recordId, bytes32 hash, uint8 kind) external {
        uint32 submitterId = _anchorerId();
        if (recordId == bytes16(0)) revert ZeroRecordId();
        if (hash == bytes32(0)) revert ZeroHash();
        if (kind == 0) revert ZeroKind();
        RecordSlot storage r = _records[recordId];
        if (r.hash != bytes32(0)) revert RecordAlreadyAnchored(recordId);
        r.hash = hash;
        r.kind = kind;
        r.submitterId = submitterId;
        r.blockNumber = uint64(block.number);
        r.timestamp = uint64(block.timestamp);
        emit RecordAnchored(recordId, hash, msg.sender, kind);
    }

    /// @notice Registers global model version with its hash and the federated
    /// round that produced it (round 0 is allowed). Reverts ZeroModelVersion,
    /// ZeroHash, ModelAlreadyRegistered or NotAnchorer.
    function registerModel(uint64 version, bytes32 modelHash, uint64 round) external {
        uint32 submitterId = _anchorerId();
        if (version == 0) revert ZeroModelVersion();
        if (modelHash == bytes32(0)) revert ZeroHash();
        ModelSlot storage m = _models[version];
        if (m.modelHash != bytes32(0)) revert ModelAlreadyRegistered(version);
        m.modelHash = modelHash;
        m.round = round;
        m.submitterId = submitterId;
        m.blockNumber = uint64(block.number);
        m.timestamp = uint64(block.timestamp);
        emit ModelRegistered(version, modelHash, round, msg.sender);
    }

    // ---- views ----

    /// @notice Returns batch batchId; all fields are zero if it was never anchored.
    function getBatch(uint64 batchId) external view returns (Batch memory) {
        BatchSlot storage b = _batches[batchId];
        return Batch(b.root, b.leafCount, b.kind, b.blockNumber, b.timestamp, _submitters[b.submitterId]);
    }

    /// @notice Returns the anchor of recordId; all fields are zero if none.
    function getRecord(bytes16 recordId) external view returns (RecordAnchor memory) {
        RecordSlot storage r = _records[recordId];
        return RecordAnchor(r.hash, r.kind, r.blockNumber, r.timestamp, _submitters[r.submitterId]);
    }

    /// @notice Returns model version; all fields are zero if not registered.
    function getModel(uint64 version) external view returns (Model memory) {
        ModelSlot storage m = _models[version];
        return Model(m.modelHash, m.round, m.blockNumber, m.timestamp, _submitters[m.submitterId]);
    }

    // ---- proofs ----

    /// @notice True iff proof is the RFC 6962 audit path (siblings from the
    /// leaf up) showing leaf at index in the tree of size leaves with root.
    /// False when index >= size or the proof length does not fit (index, size).
    function verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        external
        pure
        returns (bool)
    {
        return _verify(leaf, index, size, proof, root);
    }

    /// @notice verifyInclusion against the stored root and leaf count of
    /// batch batchId. Reverts BatchNotFound if the batch was never anchored.
    function verifyBatchInclusion(uint64 batchId, bytes32 leaf, uint256 index, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        BatchSlot storage b = _batches[batchId];
        bytes32 root = b.root;
        if (root == bytes32(0)) revert BatchNotFound(batchId);
        return _verify(leaf, index, b.leafCount, proof, root);
    }

    /// @dev RFC 9162 section 2.1.3.2, the verification algorithm of RFC 6962
    /// audit paths.
    function _verify(bytes32 leaf, uint256 index, uint256 size, bytes32[] calldata proof, bytes32 root)
        private
        pure
        returns (bool)
    {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = _node(proof[i], r);
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = _node(r, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }

    /// @dev keccak256(0x01 || left || right), hashed in free memory without
    /// allocating.
    function _node(bytes32 left, bytes32 right) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            h := keccak256(p, 65)
        }
    }
}
