// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title FederationRegistry: the on-chain half of idsledger's federated learning.
/// @notice Evaluates the acceptance rule S(w_i) of FL-BCID (eq. 3) on the
/// scores a coordinator submits for each round, keeps every enrolled site's
/// reputation (eq. 11), and registers the global models built from the
/// accepted updates. The rule, its inputs, thresholds and defaults are those
/// of idsledger's docs/federated-rule.md, in integer arithmetic only, so that an
/// off-chain mirror computes the same verdicts bit for bit.
///
/// It is deployed beside AuditRegistry, which it does not touch: every
/// record a deployment anchored before federated learning existed stays
/// verifiable at the address it was anchored at.
///
/// Roles: the owner (the deployer, until transferOwnership) sets the
/// thresholds and grants or revokes the coordinator role; a coordinator (the
/// deployer is the first) enrolls and removes sites, submits rounds and
/// registers global models. Every refusal is a custom error.
contract FederationRegistry {
    /// @notice The parameters of the acceptance rule and of the reputation
    /// update. Scores are in the units of the round's inputs (see
    /// submitRound); reputations are plain integers.
    struct Thresholds {
        /// Reject an update whose anomaly (basis points) exceeds this; <= 10000.
        uint16 maxAnomalyBp;
        /// k of the divergence band, in hundredths (300 = 3.00).
        uint16 madK;
        /// Floor of the divergence band, micro-units.
        uint32 divSlack;
        /// Reject an update whose norm (micro-units) exceeds this; 0: no limit.
        uint32 maxNorm;
        /// Trust threshold theta_R; <= repMax.
        uint16 minReputation;
        /// Reputation at a site's first enrollment; <= repMax.
        uint16 repInit;
        /// Upper bound of a reputation raised by a valid update.
        uint16 repMax;
        /// delta+: reputation gained by a valid update.
        uint16 deltaPlus;
        /// delta-: reputation lost by an invalid update (0 is the paper's rule).
        uint16 deltaMinus;
    }

    /// @notice A site as the registry holds it. known says that the site was
    /// enrolled at least once, so that enrolling it again keeps its
    /// reputation; lastRound is the last round that carried an update of the
    /// site (0: none).
    struct Site {
        uint16 reputation;
        bool enrolled;
        bool known;
        uint64 lastRound;
    }

    /// @notice A round as evaluated. updates == 0 means "not submitted".
    /// divergenceBand is exact here (it may exceed 2^32 - 1, where the
    /// RoundEvaluated event saturates).
    struct RoundSummary {
        uint16 updates;
        uint16 accepted;
        uint32 divergenceMedian;
        uint64 divergenceBand;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @dev Global model storage: three slots.
    struct ModelSlot {
        bytes32 modelHash;
        bytes32 updatesRoot;
        uint64 round;
        uint32 submitterId;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice A global model version. modelHash == 0 means "not registered".
    struct GlobalModel {
        bytes32 modelHash;
        bytes32 updatesRoot;
        uint64 round;
        uint64 blockNumber;
        uint64 timestamp;
        address submitter;
    }

    /// @dev Coordinator role of one account, as AuditRegistry keeps its
    /// anchorers: id is assigned on the first grant and kept for ever, so a
    /// global model still names its submitter after a revoke.
    struct Coordinator {
        uint32 id;
        bool active;
    }

    error NotOwner(address caller);
    error NotCoordinator(address caller);
    error ZeroAddress();
    error CoordinatorAlreadyGranted(address account);
    error CoordinatorNotGranted(address account);
    error SiteAlreadyEnrolled(address site);
    error SiteNotEnrolled(address site);
    error MaxAnomalyAboveScale(uint16 maxAnomalyBp);
    error RepInitAboveRepMax(uint16 repInit, uint16 repMax);
    error MinReputationAboveRepMax(uint16 minReputation, uint16 repMax);
    error ZeroRound();
    error RoundAlreadySubmitted(uint64 round);
    error RoundOutOfOrder(uint64 round, uint64 lastRound);
    error EmptyRound();
    error TooManyUpdates(uint256 count);
    error LengthMismatch(uint256 updates, uint256 updateHashes);
    error ReservedBitsSet(uint256 index);
    error MiddlesMismatch(uint256 middles);
    error ZeroUpdateHash(uint256 index);
    error DuplicateSite(address site);
    error ZeroModelVersion();
    error ZeroHash();
    error ZeroUpdatesRoot(uint64 round);
    error RoundNotEvaluated(uint64 round);
    error ModelAlreadyRegistered(uint64 version);

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event CoordinatorGranted(address indexed account, uint32 id);
    event CoordinatorRevoked(address indexed account);
    event SiteEnrolled(address indexed site);
    event SiteRemoved(address indexed site);
    event ThresholdsChanged(Thresholds previous, Thresholds current);
    /// @notice One per update of a round, in submission order. reasons is the
    /// bitmask of the rule (0 = accepted); reputation is the site's after the
    /// round.
    event Verdict(uint64 indexed round, address indexed site, bytes32 updateHash, uint8 reasons, uint16 reputation);
    /// @notice One per round, after its verdicts. divergenceBand saturates at
    /// 2^32 - 1 (getRound has the exact value).
    event RoundEvaluated(
        uint64 indexed round, uint16 updates, uint16 accepted, uint32 divergenceMedian, uint32 divergenceBand
    );
    event GlobalModelRegistered(
        uint64 indexed version, bytes32 indexed modelHash, uint64 indexed round, bytes32 updatesRoot, address submitter
    );

    /// @dev Verdict reasons (docs/federated-rule.md). NOT_ENROLLED (0x10) and
    /// DUPLICATE (0x20) are never reported here: such a round reverts.
    uint256 private constant REASON_ANOMALY = 0x01;
    uint256 private constant REASON_DIVERGENCE = 0x02;
    uint256 private constant REASON_NORM = 0x04;
    uint256 private constant REASON_REPUTATION = 0x08;

    /// @dev The most updates one round may carry.
    uint256 private constant MAX_UPDATES = 255;

    address private _owner;
    uint32 private _coordinatorCount;
    /// @dev The thresholds and the last round in one word, so that
    /// submitRound reads its whole configuration with one SLOAD and records
    /// the round with one SSTORE. Bits, low first: maxAnomalyBp 0..15,
    /// madK 16..31, divSlack 32..63, maxNorm 64..95, minReputation 96..111,
    /// repInit 112..127, repMax 128..143, deltaPlus 144..159, deltaMinus
    /// 160..175, lastRound 176..239.
    uint256 private _config;
    mapping(address => Coordinator) private _coordinators;
    mapping(uint32 => address) private _submitters;
    /// @dev One word per site, read once and written once per update:
    /// reputation bits 0..15, enrolled bit 16, known bit 17, lastRound
    /// 32..95. lastRound is also how a round finds a duplicate site (rounds
    /// only increase, so no earlier round can equal the current one).
    mapping(address => uint256) private _sites;
    /// @dev One word per round: updates bits 0..15, accepted 16..31,
    /// divergenceMedian 32..63, divergenceBand 64..127, blockNumber
    /// 128..191, timestamp 192..255.
    mapping(uint64 => uint256) private _rounds;
    mapping(uint64 => ModelSlot) private _models;

    uint256 private constant SITE_ENROLLED = 1 << 16;
    uint256 private constant SITE_KNOWN = 1 << 17;
    uint256 private constant LAST_ROUND_SHIFT = 176;

    /// @notice The deployer becomes owner and first coordinator; the
    /// thresholds start at the spec's defaults, announced by a
    /// ThresholdsChanged event from all zeros.
    constructor() {
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        _grant(msg.sender);
        Thresholds memory defaults = Thresholds({
            maxAnomalyBp: 5000,
            madK: 300,
            divSlack: 10000,
            maxNorm: 0,
            minReputation: 20,
            repInit: 50,
            repMax: 100,
            deltaPlus: 5,
            deltaMinus: 20
        });
        emit ThresholdsChanged(_thresholds(), defaults);
        _setThresholds(defaults);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyCoordinator() {
        if (!_coordinators[msg.sender].active) revert NotCoordinator(msg.sender);
        _;
    }

    // ---- ownership and roles ----

    /// @notice The account that sets thresholds and grants coordinators.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Hands the contract to newOwner (single step; refuses zero).
    /// Ownership does not carry the coordinator role.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }

    /// @notice Lets account coordinate. Reverts CoordinatorAlreadyGranted if it can.
    function grantCoordinator(address account) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        if (_coordinators[account].active) revert CoordinatorAlreadyGranted(account);
        _grant(account);
    }

    /// @notice Stops account from coordinating; the models it registered keep
    /// naming it. Reverts CoordinatorNotGranted if it cannot coordinate.
    function revokeCoordinator(address account) external onlyOwner {
        if (!_coordinators[account].active) revert CoordinatorNotGranted(account);
        _coordinators[account].active = false;
        emit CoordinatorRevoked(account);
    }

    /// @notice Whether account holds the coordinator role now.
    function isCoordinator(address account) external view returns (bool) {
        return _coordinators[account].active;
    }

    /// @dev Gives account the coordinator role, with a new id on its first grant.
    function _grant(address account) private {
        Coordinator storage c = _coordinators[account];
        uint32 id = c.id;
        if (id == 0) {
            id = ++_coordinatorCount;
            c.id = id;
            _submitters[id] = account;
        }
        c.active = true;
        emit CoordinatorGranted(account, id);
    }

    // ---- thresholds ----

    /// @notice Replaces every threshold at once (owner only), emitting
    /// ThresholdsChanged with the old and the new values. Reverts
    /// MaxAnomalyAboveScale (maxAnomalyBp > 10000), RepInitAboveRepMax or
    /// MinReputationAboveRepMax. Reputations already held are not touched:
    /// one above a lowered repMax comes down to repMax at its site's next
    /// valid update.
    function setThresholds(Thresholds calldata t) external onlyOwner {
        if (t.maxAnomalyBp > 10000) revert MaxAnomalyAboveScale(t.maxAnomalyBp);
        if (t.repInit > t.repMax) revert RepInitAboveRepMax(t.repInit, t.repMax);
        if (t.minReputation > t.repMax) revert MinReputationAboveRepMax(t.minReputation, t.repMax);
        emit ThresholdsChanged(_thresholds(), t);
        _setThresholds(t);
    }

    /// @notice The thresholds in force.
    function thresholds() external view returns (Thresholds memory) {
        return _thresholds();
    }

    /// @dev The thresholds held in _config.
    function _thresholds() private view returns (Thresholds memory) {
        uint256 c = _config;
        return Thresholds(
            uint16(c),
            uint16(c >> 16),
            uint32(c >> 32),
            uint32(c >> 64),
            uint16(c >> 96),
            uint16(c >> 112),
            uint16(c >> 128),
            uint16(c >> 144),
            uint16(c >> 160)
        );
    }

    /// @dev Writes t into _config, keeping the last round.
    function _setThresholds(Thresholds memory t) private {
        uint256 last = _config >> LAST_ROUND_SHIFT;
        _config = uint256(t.maxAnomalyBp) | uint256(t.madK) << 16 | uint256(t.divSlack) << 32
            | uint256(t.maxNorm) << 64 | uint256(t.minReputation) << 96 | uint256(t.repInit) << 112
            | uint256(t.repMax) << 128 | uint256(t.deltaPlus) << 144 | uint256(t.deltaMinus) << 160
            | last << LAST_ROUND_SHIFT;
    }

    // ---- sites ----

    /// @notice Enrolls site (coordinator only). A first enrollment sets its
    /// reputation to repInit; enrolling a removed site again keeps the
    /// reputation it had. Reverts ZeroAddress or SiteAlreadyEnrolled.
    function enrollSite(address site) external onlyCoordinator {
        if (site == address(0)) revert ZeroAddress();
        uint256 s = _sites[site];
        if (s & SITE_ENROLLED != 0) revert SiteAlreadyEnrolled(site);
        if (s & SITE_KNOWN == 0) s = SITE_KNOWN | uint16(_config >> 112); // repInit
        _sites[site] = s | SITE_ENROLLED;
        emit SiteEnrolled(site);
    }

    /// @notice Removes site from the federation (coordinator only); its
    /// reputation is kept. Reverts SiteNotEnrolled.
    function removeSite(address site) external onlyCoordinator {
        uint256 s = _sites[site];
        if (s & SITE_ENROLLED == 0) revert SiteNotEnrolled(site);
        _sites[site] = s & ~SITE_ENROLLED;
        emit SiteRemoved(site);
    }

    /// @notice Whether site is enrolled now.
    function isSite(address site) external view returns (bool) {
        return _sites[site] & SITE_ENROLLED != 0;
    }

    /// @notice The reputation of site: kept after a removal, 0 for a site
    /// never enrolled.
    function reputation(address site) external view returns (uint16) {
        return uint16(_sites[site]);
    }

    /// @notice Everything the registry holds about site (all zero if never enrolled).
    function getSite(address site) external view returns (Site memory) {
        uint256 s = _sites[site];
        return Site(uint16(s), s & SITE_ENROLLED != 0, s & SITE_KNOWN != 0, uint64(s >> 32));
    }

    // ---- rounds ----

    /// @notice Evaluates round's updates with the acceptance rule and updates
    /// the sites' reputations (coordinator only); emits one Verdict per
    /// update, in the order given, then RoundEvaluated.
    ///
    /// Calldata layout: update i is updates[i] and updateHashes[i].
    /// updates[i] packs the site and its scores in one word, low bits first:
    ///   bits   0..159  site address
    ///   bits 160..175  anomaly, basis points (uint16)
    ///   bits 176..207  divergence ||w_i - ref||_2, micro-units (uint32, saturated)
    ///   bits 208..239  norm ||delta_i||_2, micro-units (uint32, saturated)
    ///   bits 240..255  zero
    /// updateHashes[i] is keccak256 of the update record. Two words per
    /// update instead of five ABI words for a struct: about 400 gas less of
    /// calldata per update, and no per-field ABI checks.
    ///
    /// middles names the middle order statistics the rule's two medians are
    /// made of, low bits first (k = (n - 1) / 2 and n / 2, 0-based, of the
    /// values sorted ascending; the same k twice when n is odd):
    ///   bits  0..31  divergences[k = (n-1)/2]    bits 64..95   deviations[(n-1)/2]
    ///   bits 32..63  divergences[k = n/2]        bits 96..127  deviations[n/2]
    ///   bits 128..255 zero
    /// where deviations are |D_i - med|. The contract does not sort: it
    /// checks each named value v is the k-th by counting (#{x < v} <= k and
    /// #{x > v} <= n - 1 - k), in one O(n) pass, and reverts
    /// MiddlesMismatch otherwise. Only the true order statistics pass, so
    /// the verdicts depend on the updates alone. Sorting on chain instead
    /// cost 300 gas more per update at 10 updates and 800 at 100
    /// (BENCHMARKS.md), which a round of 10 cannot afford.
    ///
    /// The rule (docs/federated-rule.md): med = median of the divergences, mad =
    /// median of |D_i - med| (even count: floor of the mean of the middle
    /// two), band = med + floor(madK * mad / 100) + divSlack. reasons gets
    /// 0x01 if anomaly > maxAnomalyBp, 0x02 if divergence > band, 0x04 if
    /// maxNorm != 0 and norm > maxNorm, 0x08 if the site's reputation at
    /// round start is below minReputation. A valid update (no 0x07 bit)
    /// raises the reputation by deltaPlus up to repMax, an invalid one lowers
    /// it by deltaMinus down to 0; accepted means reasons == 0.
    ///
    /// Reverts ZeroRound, RoundAlreadySubmitted, RoundOutOfOrder (round not
    /// above the last one), EmptyRound, TooManyUpdates (over 255),
    /// LengthMismatch, ReservedBitsSet, MiddlesMismatch, ZeroUpdateHash,
    /// SiteNotEnrolled, DuplicateSite or NotCoordinator; a refused round
    /// changes nothing.
    function submitRound(
        uint64 round,
        uint256 middles,
        uint256[] calldata updates,
        bytes32[] calldata updateHashes
    ) external onlyCoordinator {
        uint256 n = updates.length;
        if (n == 0) revert EmptyRound();
        if (n > MAX_UPDATES) revert TooManyUpdates(n);
        if (updateHashes.length != n) revert LengthMismatch(n, updateHashes.length);
        if (round == 0) revert ZeroRound();
        uint256 c = _config;
        {
            uint64 last = uint64(c >> LAST_ROUND_SHIFT);
            if (round <= last) {
                if (_rounds[round] != 0) revert RoundAlreadySubmitted(round);
                revert RoundOutOfOrder(round, last);
            }
        }
        (uint256 med, uint256 band) = _divergenceBand(c, middles, updates);
        uint256 accepted = _judgeRound(c, band, round, updates, updateHashes);

        _config = (c & ~(uint256(type(uint64).max) << LAST_ROUND_SHIFT)) | uint256(round) << LAST_ROUND_SHIFT;
        _rounds[round] = n | accepted << 16 | med << 32 | band << 64 | block.number << 128 | block.timestamp << 192;
        emit RoundEvaluated(
            round, uint16(n), uint16(accepted), uint32(med), band > type(uint32).max ? type(uint32).max : uint32(band)
        );
    }

    /// @dev The divergence median of a round and its acceptance band,
    /// med + floor(madK * mad / 100) + divSlack (below 2^43), from the
    /// middle order statistics the coordinator named (see submitRound),
    /// once checked by counting. Reverts ReservedBitsSet for an update word
    /// with a bit above 239, MiddlesMismatch for wrong middles.
    function _divergenceBand(uint256 c, uint256 middles, uint256[] calldata updates)
        private
        pure
        returns (uint256 med, uint256 band)
    {
        if (middles >> 128 != 0) revert MiddlesMismatch(middles);
        uint256 n = updates.length;
        med = (uint32(middles) + uint256(uint32(middles >> 32))) / 2;
        uint256 counts;
        uint256 stoppedAt;
        assembly ("memory-safe") {
            // Counts, over the update words from calldata offset p to end, in
            // 16-bit lanes of one word (fewer than 2^8 words: no lane overflows):
            //   lane 0 #{x < dLo}   lane 1 #{x > dLo}   lane 2 #{x < dHi}   lane 3 #{x > dHi}
            //   lane 4 #{e < eLo}   lane 5 #{e > eLo}   lane 6 #{e < eHi}   lane 7 #{e > eHi}
            // for the divergences x and their deviations e = |x - mid|.
            // stopped is the offset of the first word with a reserved bit
            // set (0: none).
            function countAround(p, end, m, mid) -> acc, stopped {
                let dLo := and(m, 0xffffffff)
                let dHi := and(shr(32, m), 0xffffffff)
                let eLo := and(shr(64, m), 0xffffffff)
                let eHi := shr(96, m)
                for {} lt(p, end) { p := add(p, 0x20) } {
                    let x := calldataload(p)
                    if shr(240, x) {
                        stopped := p
                        break
                    }
                    x := and(shr(176, x), 0xffffffff)
                    let e := sub(x, mid)
                    if lt(x, mid) { e := sub(mid, x) }
                    acc := add(
                        acc,
                        or(
                            or(or(lt(x, dLo), shl(16, gt(x, dLo))), or(shl(32, lt(x, dHi)), shl(48, gt(x, dHi)))),
                            or(or(shl(64, lt(e, eLo)), shl(80, gt(e, eLo))), or(shl(96, lt(e, eHi)), shl(112, gt(e, eHi))))
                        )
                    )
                }
            }
            let p := updates.offset
            counts, stoppedAt := countAround(p, add(p, shl(5, n)), middles, med)
        }
        if (stoppedAt != 0) {
            uint256 i;
            assembly {
                i := shr(5, sub(stoppedAt, updates.offset))
            }
            revert ReservedBitsSet(i);
        }
        if (!_countsFit(counts, n)) revert MiddlesMismatch(middles);
        uint256 mad = (uint32(middles >> 64) + uint256(uint32(middles >> 96))) / 2;
        band = med + (uint256(uint16(c >> 16)) * mad) / 100 + uint32(c >> 32);
    }

    /// @dev Whether the lanes counted by _divergenceBand say the middles
    /// are the right order statistics of n values: v is the k-th iff
    /// #{x < v} <= k and #{x > v} <= n - 1 - k. With kLo = (n - 1) / 2 and
    /// kHi = n / 2, n - 1 - kLo = kHi and n - 1 - kHi = kLo. Each lane's
    /// bound gets its guard bit 15 set; the subtraction keeps every guard
    /// bit iff no count exceeds its bound (all values are below 2^8).
    function _countsFit(uint256 counts, uint256 n) private pure returns (bool) {
        uint256 kLo = (n - 1) / 2;
        uint256 kHi = n / 2;
        uint256 bounds = kLo | kHi << 16 | kHi << 32 | kLo << 48;
        bounds |= bounds << 64;
        uint256 guards = 0x80008000800080008000800080008000;
        return ((bounds | guards) - counts) & guards == guards;
    }

    /// @dev Judges every update of a round, writes each site's new
    /// reputation and emits each Verdict, in order; returns how many were
    /// accepted, or reverts ZeroUpdateHash, SiteNotEnrolled or DuplicateSite
    /// for the first update that makes the round invalid (nothing it wrote
    /// survives the revert). c is the config word, band the round's band.
    function _judgeRound(
        uint256 c,
        uint256 band,
        uint64 round,
        uint256[] calldata updates,
        bytes32[] calldata updateHashes
    ) private returns (uint256 accepted) {
        bytes32 topic = Verdict.selector;
        uint256 cb = (c & ~(uint256(type(uint64).max) << LAST_ROUND_SHIFT)) | band << LAST_ROUND_SHIFT;
        uint256 stoppedAt;
        assembly ("memory-safe") {
            // The loop below is most of a round's gas besides storage and
            // logs, hence assembly. For update word w of a site whose word
            // is s, under cfg (the thresholds, with the band in bits 176 and
            // up instead of the last round), it does exactly:
            //   reasons  = 0x01 if anomaly > maxAnomalyBp
            //            | 0x02 if divergence > band
            //            | 0x04 if maxNorm != 0 && norm > maxNorm
            //   next     = reasons == 0 ? min(rep + deltaPlus, repMax)     (valid)
            //                           : (rep > deltaMinus ? rep - deltaMinus : 0)
            //   reasons |= 0x08 if rep < minReputation  (rep at round start:
            //              a valid update of such a site still gains deltaPlus)
            //   s        = next | enrolled | known | round << 32
            // and emits Verdict(round, site, updateHash, reasons, next). It
            // stops at the first update whose hash is zero, whose site is
            // not enrolled, or whose site's lastRound is already round (a
            // duplicate: rounds only increase), and returns its calldata
            // offset (0: none). The Verdict's data words go at data, the
            // topic sits at data + 0x60 and scratch word 0x20 holds the
            // slot of _sites throughout.
            function judgeAll(cfg, rnd, p, end, toHash, data) -> acc, stopped {
                for {} lt(p, end) { p := add(p, 0x20) } {
                    let w := calldataload(p)
                    let h := calldataload(add(p, toHash))
                    mstore(0x00, shr(96, shl(96, w))) // the site
                    let slot := keccak256(0x00, 0x40)
                    let s := sload(slot)
                    // A site word has no bit above 95: s >> 32 is lastRound.
                    if or(iszero(h), or(iszero(and(s, SITE_ENROLLED)), eq(shr(32, s), rnd))) {
                        stopped := p
                        break
                    }
                    // REASON_* are 1 << 0..3, set with shl (cheaper than mul here).
                    let reasons := or(
                        gt(and(shr(160, w), 0xffff), and(cfg, 0xffff)), // REASON_ANOMALY
                        shl(1, gt(and(shr(176, w), 0xffffffff), shr(176, cfg))) // REASON_DIVERGENCE
                    )
                    // Bits 240..255 of w are zero (_divergenceBand checked): w >> 208 is the norm.
                    {
                        let maxNorm := and(shr(64, cfg), 0xffffffff)
                        reasons := or(reasons, shl(2, and(gt(shr(208, w), maxNorm), lt(0, maxNorm)))) // REASON_NORM
                    }
                    let rep := and(s, 0xffff)
                    switch reasons
                    case 0 {
                        s := add(rep, and(shr(144, cfg), 0xffff))
                        let repMax := and(shr(128, cfg), 0xffff)
                        if gt(s, repMax) { s := repMax }
                    }
                    default {
                        let deltaMinus := and(shr(160, cfg), 0xffff)
                        s := mul(gt(rep, deltaMinus), sub(rep, deltaMinus))
                    }
                    reasons := or(reasons, shl(3, lt(rep, and(shr(96, cfg), 0xffff)))) // REASON_REPUTATION
                    acc := add(acc, iszero(reasons))
                    sstore(slot, or(or(s, or(SITE_ENROLLED, SITE_KNOWN)), shl(32, rnd)))
                    mstore(data, h)
                    mstore(add(data, 0x20), reasons)
                    mstore(add(data, 0x40), s)
                    log3(data, 0x60, mload(add(data, 0x60)), rnd, mload(0x00))
                }
            }

            let data := mload(0x40)
            mstore(add(data, 0x60), topic)
            mstore(0x20, _sites.slot)
            let p := updates.offset
            accepted, stoppedAt :=
                judgeAll(cb, round, p, add(p, shl(5, updates.length)), sub(updateHashes.offset, p), data)
        }
        if (stoppedAt == 0) return accepted;
        uint256 i;
        assembly {
            i := shr(5, sub(stoppedAt, updates.offset))
        }
        if (updateHashes[i] == bytes32(0)) revert ZeroUpdateHash(i);
        address site = address(uint160(updates[i]));
        if (_sites[site] & SITE_ENROLLED == 0) revert SiteNotEnrolled(site);
        revert DuplicateSite(site);
    }

    /// @notice The last round submitted (0: none yet).
    function lastRound() external view returns (uint64) {
        return uint64(_config >> LAST_ROUND_SHIFT);
    }

    /// @notice Returns round's summary; all fields are zero if it was never submitted.
    function getRound(uint64 round) external view returns (RoundSummary memory) {
        uint256 r = _rounds[round];
        return RoundSummary(
            uint16(r), uint16(r >> 16), uint32(r >> 32), uint64(r >> 64), uint64(r >> 128), uint64(r >> 192)
        );
    }

    // ---- global models ----

    /// @notice Registers global model version (coordinator only): its hash,
    /// the round whose accepted updates built it, and updatesRoot, the
    /// RFC 6962/keccak Merkle root of those updates' record leaves (as
    /// package anchor computes it). Round 0 is an initial model: it names no
    /// evaluated round and its updatesRoot may be zero. Any other round must
    /// have been submitted here and needs a non-zero updatesRoot. Reverts
    /// ZeroModelVersion, ZeroHash, ZeroUpdatesRoot, RoundNotEvaluated,
    /// ModelAlreadyRegistered or NotCoordinator; a version is written at
    /// most once, ever.
    function registerGlobalModel(uint64 version, bytes32 modelHash, uint64 round, bytes32 updatesRoot) external {
        Coordinator memory co = _coordinators[msg.sender];
        if (!co.active) revert NotCoordinator(msg.sender);
        if (version == 0) revert ZeroModelVersion();
        if (modelHash == bytes32(0)) revert ZeroHash();
        if (round != 0) {
            if (updatesRoot == bytes32(0)) revert ZeroUpdatesRoot(round);
            if (_rounds[round] == 0) revert RoundNotEvaluated(round);
        }
        ModelSlot storage m = _models[version];
        if (m.modelHash != bytes32(0)) revert ModelAlreadyRegistered(version);
        m.modelHash = modelHash;
        m.updatesRoot = updatesRoot;
        m.round = round;
        m.submitterId = co.id;
        m.blockNumber = uint64(block.number);
        m.timestamp = uint64(block.timestamp);
        emit GlobalModelRegistered(version, modelHash, round, updatesRoot, msg.sender);
    }

    /// @notice Returns global model version; all fields are zero if not registered.
    function getGlobalModel(uint64 version) external view returns (GlobalModel memory) {
        ModelSlot storage m = _models[version];
        return GlobalModel(m.modelHash, m.updatesRoot, m.round, m.blockNumber, m.timestamp, _submitters[m.submitterId]);
    }
}
