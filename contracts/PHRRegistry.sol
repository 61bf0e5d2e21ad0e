// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title PHRRegistry
/// @notice Anchors hashes of encrypted personal health records, records who may
///         read or write them, and provides a tamper-evident access log and
///         Merkle-batched anchoring.
/// @dev Deliberately has no admin, no owner, no upgrade path and no selfdestruct:
///      nobody, including the platform operator, can alter another account's
///      anchors or grants. Every write is authorised by `msg.sender` alone.
///      No personal health information belongs on chain: record ids, hashes and
///      storage keys must be opaque (see contracts/README.md).
///      Compiled for the London EVM (no PUSH0) because geth's clique engine
///      does not support Shanghai.
contract PHRRegistry {
    // ---------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------

    /// @dev 4 fixed slots + the string: [recordHash] [resourcesRoot]
    ///      [owner | anchoredAt] [author | blockNumber] [storageKey...].
    ///      Existence is `recordHash != 0` (a zero recordHash is rejected).
    struct Anchor {
        bytes32 recordHash;
        bytes32 resourcesRoot;
        address owner;
        uint64 anchoredAt;
        address author;
        uint64 blockNumber;
        string storageKey;
    }

    /// @dev One slot. `exists` is true from grant() until revoke(), even after
    ///      expiry; the effective state is `exists && !expired`.
    struct Grant {
        uint64 expiresAt;
        bool canWrite;
        bool exists;
    }

    /// @dev One slot; same semantics as Grant, read-only.
    struct RecordGrant {
        uint64 expiresAt;
        bool exists;
    }

    /// @dev 2 slots: [submitter | anchoredAt | count] [blockNumber]. The root is
    ///      the mapping key so it is not stored again. Existence is
    ///      `submitter != 0` (msg.sender is never the zero address).
    struct Batch {
        address submitter;
        uint64 anchoredAt;
        uint32 count;
        uint64 blockNumber;
    }

    string private constant VERSION = "PHRRegistry/1";

    mapping(bytes32 recordId => Anchor) private _anchors;
    mapping(address owner => mapping(address reader => Grant)) private _grants;
    mapping(bytes32 recordId => mapping(address reader => RecordGrant)) private _recordGrants;
    mapping(bytes32 root => Batch) private _batches;

    // ---------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------

    /// @notice A record was anchored.
    event Anchored(
        bytes32 indexed recordId,
        address indexed owner,
        address indexed author,
        bytes32 recordHash,
        bytes32 resourcesRoot,
        string storageKey
    );

    /// @notice `owner` granted `reader` access. `recordId` is zero for an
    ///         owner-wide grant; `canWrite` is always false for a record grant.
    ///         `expiresAt` zero means no expiry.
    event Granted(
        address indexed owner,
        address indexed reader,
        bytes32 indexed recordId,
        uint64 expiresAt,
        bool canWrite
    );

    /// @notice `owner` revoked `reader`'s grant (`recordId` zero: owner-wide).
    event Revoked(address indexed owner, address indexed reader, bytes32 indexed recordId);

    /// @notice `actor` states that it performed `action` on a record owned by
    ///         `owner`; `detailHash` commits to the off-chain log entry.
    event AccessLogged(
        bytes32 indexed recordId,
        address indexed actor,
        address indexed owner,
        uint8 action,
        bytes32 detailHash
    );

    /// @notice A Merkle root covering `count` off-chain anchor leaves was stored.
    event BatchAnchored(bytes32 indexed root, address indexed submitter, uint32 count);

    // ---------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------

    /// @notice recordId must be non-zero.
    error ZeroRecordId();
    /// @notice recordHash must be non-zero.
    error ZeroRecordHash();
    /// @notice The record owner must be a non-zero address.
    error ZeroOwner();
    /// @notice The record id is already anchored; anchors are immutable.
    error AlreadyAnchored(bytes32 recordId);
    /// @notice `writer` is neither `owner` nor holds an active write grant from `owner`.
    error NotAuthorizedWriter(address writer, address owner);
    /// @notice No anchor exists for `recordId`.
    error UnknownRecord(bytes32 recordId);
    /// @notice The caller does not own `recordId`.
    error NotOwner(bytes32 recordId);
    /// @notice The reader is the zero address or the caller itself.
    error InvalidReader(address reader);
    /// @notice expiresAt is not zero and not in the future.
    error InvalidExpiry(uint64 expiresAt);
    /// @notice There is no grant to revoke (`recordId` zero: owner-wide).
    error GrantNotFound(address owner, address reader, bytes32 recordId);
    /// @notice A batch root must be non-zero.
    error ZeroBatchRoot();
    /// @notice A batch must cover at least one leaf.
    error EmptyBatch();
    /// @notice The batch root is already anchored.
    error BatchAlreadyAnchored(bytes32 root);
    /// @notice No batch is anchored under `root`.
    error UnknownBatch(bytes32 root);

    // ---------------------------------------------------------------------
    // Anchoring
    // ---------------------------------------------------------------------

    /// @notice Anchor a record. Immutable once written.
    /// @dev Allowed when msg.sender is `owner`, or holds an active owner-wide
    ///      grant from `owner` with write permission (e.g. a doctor adding a
    ///      record to a patient's file). msg.sender is recorded as author.
    /// @param recordId Opaque, non-zero, unique record identifier.
    /// @param recordHash SHA-256 of the canonical FHIR bundle bytes (non-zero).
    /// @param resourcesRoot Merkle root of per-resource hashes (selective disclosure); may be zero.
    /// @param storageKey Opaque object-storage key of the encrypted record (must not contain PHI).
    /// @param owner The patient who owns the record.
    function anchor(
        bytes32 recordId,
        bytes32 recordHash,
        bytes32 resourcesRoot,
        string calldata storageKey,
        address owner
    ) external {
        if (recordId == bytes32(0)) revert ZeroRecordId();
        if (recordHash == bytes32(0)) revert ZeroRecordHash();
        if (owner == address(0)) revert ZeroOwner();
        Anchor storage a = _anchors[recordId];
        if (a.recordHash != bytes32(0)) revert AlreadyAnchored(recordId);
        if (!_canWrite(msg.sender, owner)) revert NotAuthorizedWriter(msg.sender, owner);

        a.recordHash = recordHash;
        a.resourcesRoot = resourcesRoot;
        a.owner = owner;
        a.anchoredAt = uint64(block.timestamp);
        a.author = msg.sender;
        a.blockNumber = uint64(block.number);
        a.storageKey = storageKey;

        emit Anchored(recordId, owner, msg.sender, recordHash, resourcesRoot, storageKey);
    }

    /// @notice Read an anchor. Reverts with UnknownRecord if it does not exist.
    /// @param recordId The record identifier.
    /// @return recordHash SHA-256 of the canonical FHIR bundle bytes.
    /// @return resourcesRoot Merkle root of per-resource hashes.
    /// @return owner The record owner.
    /// @return author The account that sent the anchoring transaction.
    /// @return anchoredAt Block timestamp of the anchoring block (seconds).
    /// @return blockNumber Number of the anchoring block.
    /// @return storageKey Opaque object-storage key.
    function getAnchor(bytes32 recordId)
        external
        view
        returns (
            bytes32 recordHash,
            bytes32 resourcesRoot,
            address owner,
            address author,
            uint64 anchoredAt,
            uint64 blockNumber,
            string memory storageKey
        )
    {
        Anchor storage a = _anchors[recordId];
        if (a.recordHash == bytes32(0)) revert UnknownRecord(recordId);
        return (a.recordHash, a.resourcesRoot, a.owner, a.author, a.anchoredAt, a.blockNumber, a.storageKey);
    }

    /// @notice Whether `recordId` is anchored.
    /// @param recordId The record identifier.
    /// @return True if an anchor exists.
    function isAnchored(bytes32 recordId) external view returns (bool) {
        return _anchors[recordId].recordHash != bytes32(0);
    }

    // ---------------------------------------------------------------------
    // Grants
    // ---------------------------------------------------------------------

    /// @notice Grant `reader` access to all of the caller's records (current and future).
    /// @dev Overwrites any existing owner-wide grant to `reader`. A write grant
    ///      lets `reader` anchor records owned by the caller; it never lets
    ///      `reader` grant or revoke.
    /// @param reader The grantee; not zero and not the caller.
    /// @param expiresAt Unix time (seconds) after which the grant lapses; 0 = never. Must be in the future.
    /// @param writable Whether `reader` may also anchor records owned by the caller.
    ///        (Named `writable` rather than `canWrite` to avoid shadowing canWrite().)
    function grant(address reader, uint64 expiresAt, bool writable) external {
        _checkReader(reader);
        _checkExpiry(expiresAt);
        _grants[msg.sender][reader] = Grant({expiresAt: expiresAt, canWrite: writable, exists: true});
        emit Granted(msg.sender, reader, bytes32(0), expiresAt, writable);
    }

    /// @notice Grant `reader` read access to one record owned by the caller.
    /// @dev Reverts UnknownRecord if not anchored, NotOwner if the caller does
    ///      not own it. Overwrites any existing grant for this record and reader.
    /// @param recordId The record; must be anchored and owned by the caller.
    /// @param reader The grantee; not zero and not the caller.
    /// @param expiresAt Unix time (seconds) after which the grant lapses; 0 = never. Must be in the future.
    function grantRecord(bytes32 recordId, address reader, uint64 expiresAt) external {
        _checkOwner(recordId);
        _checkReader(reader);
        _checkExpiry(expiresAt);
        _recordGrants[recordId][reader] = RecordGrant({expiresAt: expiresAt, exists: true});
        emit Granted(msg.sender, reader, recordId, expiresAt, false);
    }

    /// @notice Revoke the caller's owner-wide grant to `reader` (also clears an expired one).
    /// @dev Reverts GrantNotFound if there is none. Record grants are untouched.
    /// @param reader The grantee.
    function revoke(address reader) external {
        if (!_grants[msg.sender][reader].exists) revert GrantNotFound(msg.sender, reader, bytes32(0));
        delete _grants[msg.sender][reader];
        emit Revoked(msg.sender, reader, bytes32(0));
    }

    /// @notice Revoke `reader`'s grant on one record owned by the caller.
    /// @dev Reverts UnknownRecord / NotOwner / GrantNotFound as applicable.
    ///      An owner-wide grant to `reader`, if any, is untouched.
    /// @param recordId The record; must be owned by the caller.
    /// @param reader The grantee.
    function revokeRecord(bytes32 recordId, address reader) external {
        _checkOwner(recordId);
        if (!_recordGrants[recordId][reader].exists) revert GrantNotFound(msg.sender, reader, recordId);
        delete _recordGrants[recordId][reader];
        emit Revoked(msg.sender, reader, recordId);
    }

    /// @notice Whether `reader` may read `recordId` at the current block.
    /// @dev True for the owner, or with an unexpired owner-wide grant (read or
    ///      write) or an unexpired record grant. The record's author has NO
    ///      implicit right. False for an unknown record.
    /// @param reader The account to check.
    /// @param recordId The record.
    /// @return True if access is allowed.
    function canRead(address reader, bytes32 recordId) external view returns (bool) {
        Anchor storage a = _anchors[recordId];
        if (a.recordHash == bytes32(0)) return false;
        address owner = a.owner;
        if (reader == owner) return true;
        Grant storage g = _grants[owner][reader];
        if (g.exists && _live(g.expiresAt)) return true;
        RecordGrant storage rg = _recordGrants[recordId][reader];
        return rg.exists && _live(rg.expiresAt);
    }

    /// @notice Whether `writer` may anchor records owned by `owner` at the current block.
    /// @param writer The account to check.
    /// @param owner The record owner.
    /// @return True if `writer` is `owner` or holds an unexpired owner-wide write grant.
    function canWrite(address writer, address owner) external view returns (bool) {
        return _canWrite(writer, owner);
    }

    /// @notice The owner-wide grant from `owner` to `reader`.
    /// @param owner The grantor.
    /// @param reader The grantee.
    /// @return expiresAt Expiry (0 = never); 0 if no grant.
    /// @return writable Whether the grant includes write permission.
    /// @return active True if the grant exists and has not expired at the current block.
    function grantOf(address owner, address reader)
        external
        view
        returns (uint64 expiresAt, bool writable, bool active)
    {
        Grant storage g = _grants[owner][reader];
        return (g.expiresAt, g.canWrite, g.exists && _live(g.expiresAt));
    }

    /// @notice The record grant on `recordId` to `reader`.
    /// @param recordId The record.
    /// @param reader The grantee.
    /// @return expiresAt Expiry (0 = never); 0 if no grant.
    /// @return active True if the grant exists and has not expired at the current block.
    function recordGrantOf(bytes32 recordId, address reader)
        external
        view
        returns (uint64 expiresAt, bool active)
    {
        RecordGrant storage rg = _recordGrants[recordId][reader];
        return (rg.expiresAt, rg.exists && _live(rg.expiresAt));
    }

    // ---------------------------------------------------------------------
    // Audit log
    // ---------------------------------------------------------------------

    /// @notice Append an access-log entry for an anchored record (event only, no storage).
    /// @dev Callable by anyone; the entry is attributable to msg.sender, it is
    ///      evidence of a claim, not an authorisation check.
    /// @param recordId The record accessed; must be anchored.
    /// @param action Application-defined action code.
    /// @param detailHash Hash of the off-chain log entry details.
    function logAccess(bytes32 recordId, uint8 action, bytes32 detailHash) external {
        address owner = _anchors[recordId].owner;
        if (owner == address(0)) revert UnknownRecord(recordId);
        emit AccessLogged(recordId, msg.sender, owner, action, detailHash);
    }

    // ---------------------------------------------------------------------
    // Merkle-batched anchoring
    // ---------------------------------------------------------------------

    /// @notice Anchor the Merkle root of a batch of off-chain anchor leaves.
    /// @dev Callable by anyone; only the root is stored. Leaves (record data
    ///      plus the owner's signature) are verified off-chain.
    /// @param root Non-zero Merkle root; each root can be anchored once.
    /// @param count Number of leaves in the batch (non-zero).
    function anchorBatch(bytes32 root, uint32 count) external {
        if (root == bytes32(0)) revert ZeroBatchRoot();
        if (count == 0) revert EmptyBatch();
        Batch storage b = _batches[root];
        if (b.submitter != address(0)) revert BatchAlreadyAnchored(root);
        b.submitter = msg.sender;
        b.anchoredAt = uint64(block.timestamp);
        b.count = count;
        b.blockNumber = uint64(block.number);
        emit BatchAnchored(root, msg.sender, count);
    }

    /// @notice Read a batch. Reverts with UnknownBatch if it does not exist.
    /// @param root The batch Merkle root.
    /// @return submitter The account that anchored the batch.
    /// @return anchoredAt Block timestamp of the anchoring block (seconds).
    /// @return blockNumber Number of the anchoring block.
    /// @return count Number of leaves in the batch.
    function getBatch(bytes32 root)
        external
        view
        returns (address submitter, uint64 anchoredAt, uint64 blockNumber, uint32 count)
    {
        Batch storage b = _batches[root];
        if (b.submitter == address(0)) revert UnknownBatch(root);
        return (b.submitter, b.anchoredAt, b.blockNumber, b.count);
    }

    /// @notice Whether a batch is anchored under `root`.
    /// @param root The batch Merkle root.
    /// @return True if the batch exists.
    function isBatchAnchored(bytes32 root) external view returns (bool) {
        return _batches[root].submitter != address(0);
    }

    // ---------------------------------------------------------------------
    // Meta
    // ---------------------------------------------------------------------

    /// @notice Contract interface version.
    /// @return The string "PHRRegistry/1".
    function version() external pure returns (string memory) {
        return VERSION;
    }

    // ---------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------

    function _live(uint64 expiresAt) private view returns (bool) {
        return expiresAt == 0 || block.timestamp < expiresAt;
    }

    function _canWrite(address writer, address owner) private view returns (bool) {
        if (writer == owner) return true;
        Grant storage g = _grants[owner][writer];
        return g.exists && g.canWrite && _live(g.expiresAt);
    }

    function _checkOwner(bytes32 recordId) private view {
        address owner = _anchors[recordId].owner;
        if (owner == address(0)) revert UnknownRecord(recordId);
        if (owner != msg.sender) revert NotOwner(recordId);
    }

    function _checkReader(address reader) private view {
        if (reader == address(0) || reader == msg.sender) revert InvalidReader(reader);
    }

    function _checkExpiry(uint64 expiresAt) private view {
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
    }
}
