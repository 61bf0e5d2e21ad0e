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
///      Version 2 binds every anchor to its owner and every batch root to its
///      submitter (they are stored under keccak256(abi.encode(owner, recordId))
///      and keccak256(abi.encode(submitter, root))), so a transaction copied
///      from the pool can only create the copier's own entry, never take the
///      victim's; and only the owner or a live grantee may log an access.
///      Compiled for the London EVM (no PUSH0) because geth's clique engine
///      does not support Shanghai.
contract PHRRegistry {
    // ---------------------------------------------------------------------
    // Storage
    // ---------------------------------------------------------------------

    /// @dev 3 fixed slots + the string: [recordHash] [resourcesRoot]
    ///      [author | anchoredAt | blockNumber] [storageKey...]. The owner is
    ///      part of the mapping key, so it is not stored again.
    ///      Existence is `recordHash != 0` (a zero recordHash is rejected).
    struct Anchor {
        bytes32 recordHash;
        bytes32 resourcesRoot;
        address author;
        uint48 anchoredAt;
        uint48 blockNumber;
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

    /// @dev 1 slot: [anchoredAt | blockNumber | count]. The submitter and the
    ///      root make up the mapping key. Existence is `count != 0` (an empty
    ///      batch is rejected).
    struct Batch {
        uint64 anchoredAt;
        uint64 blockNumber;
        uint32 count;
    }

    string private constant VERSION = "PHRRegistry/2";

    mapping(bytes32 anchorKey => Anchor) private _anchors;
    mapping(address owner => mapping(address reader => Grant)) private _grants;
    mapping(bytes32 anchorKey => mapping(address reader => RecordGrant)) private _recordGrants;
    mapping(bytes32 batchKey => Batch) private _batches;

    // ---------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------

    /// @notice A record was anchored under (`owner`, `recordId`).
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

    /// @notice `actor`, the owner or a live grantee of `owner`'s record
    ///         `recordId`, performed `action`; `detailHash` commits to the
    ///         off-chain log entry.
    event AccessLogged(
        bytes32 indexed recordId,
        address indexed actor,
        address indexed owner,
        uint8 action,
        bytes32 detailHash
    );

    /// @notice `submitter` stored a Merkle root covering `count` off-chain anchor leaves.
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
    /// @notice `owner` already has an anchor under `recordId`; anchors are immutable.
    error AlreadyAnchored(address owner, bytes32 recordId);
    /// @notice `writer` is neither `owner` nor holds an active write grant from `owner`.
    error NotAuthorizedWriter(address writer, address owner);
    /// @notice `reader` is neither `owner` nor holds a live grant covering the record.
    error NotAuthorizedReader(address reader, address owner, bytes32 recordId);
    /// @notice `owner` has no anchor under `recordId`.
    error UnknownRecord(address owner, bytes32 recordId);
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
    /// @notice `submitter` already anchored `root`.
    error BatchAlreadyAnchored(address submitter, bytes32 root);
    /// @notice `submitter` anchored no batch under `root`.
    error UnknownBatch(address submitter, bytes32 root);

    // ---------------------------------------------------------------------
    // Anchoring
    // ---------------------------------------------------------------------

    /// @notice Anchor a record under (`owner`, `recordId`). Immutable once written.
    /// @dev Allowed when msg.sender is `owner`, or holds an active owner-wide
    ///      grant from `owner` with write permission (e.g. a doctor adding a
    ///      record to a patient's file). msg.sender is recorded as author.
    ///      Someone who copies this call from the pool can only anchor under
    ///      an owner that authorised them, never take `owner`'s id.
    /// @param recordId Opaque, non-zero record identifier, unique per owner.
    /// @param recordHash Commitment to the record's bytes (non-zero), e.g. SHA-256(salt || bundle).
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
        if (!_canWrite(msg.sender, owner)) revert NotAuthorizedWriter(msg.sender, owner);
        Anchor storage a = _anchors[_anchorKey(owner, recordId)];
        if (a.recordHash != bytes32(0)) revert AlreadyAnchored(owner, recordId);

        a.recordHash = recordHash;
        a.resourcesRoot = resourcesRoot;
        a.author = msg.sender;
        a.anchoredAt = uint48(block.timestamp);
        a.blockNumber = uint48(block.number);
        a.storageKey = storageKey;

        emit Anchored(recordId, owner, msg.sender, recordHash, resourcesRoot, storageKey);
    }

    /// @notice Read `owner`'s anchor `recordId`. Reverts with UnknownRecord if it does not exist.
    /// @param owner The record owner.
    /// @param recordId The record identifier.
    /// @return recordHash The anchored commitment.
    /// @return resourcesRoot Merkle root of per-resource hashes.
    /// @return author The account that sent the anchoring transaction.
    /// @return anchoredAt Block timestamp of the anchoring block (seconds).
    /// @return blockNumber Number of the anchoring block.
    /// @return storageKey Opaque object-storage key.
    function getAnchor(address owner, bytes32 recordId)
        external
        view
        returns (
            bytes32 recordHash,
            bytes32 resourcesRoot,
            address author,
            uint64 anchoredAt,
            uint64 blockNumber,
            string memory storageKey
        )
    {
        Anchor storage a = _anchors[_anchorKey(owner, recordId)];
        if (a.recordHash == bytes32(0)) revert UnknownRecord(owner, recordId);
        return (a.recordHash, a.resourcesRoot, a.author, a.anchoredAt, a.blockNumber, a.storageKey);
    }

    /// @notice Whether `owner` has an anchor under `recordId`.
    /// @param owner The record owner.
    /// @param recordId The record identifier.
    /// @return True if the anchor exists.
    function isAnchored(address owner, bytes32 recordId) external view returns (bool) {
        return _anchors[_anchorKey(owner, recordId)].recordHash != bytes32(0);
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

    /// @notice Grant `reader` read access to the caller's record `recordId`.
    /// @dev Reverts UnknownRecord if the caller has no such anchor. Overwrites
    ///      any existing grant for this record and reader.
    /// @param recordId The caller's anchored record.
    /// @param reader The grantee; not zero and not the caller.
    /// @param expiresAt Unix time (seconds) after which the grant lapses; 0 = never. Must be in the future.
    function grantRecord(bytes32 recordId, address reader, uint64 expiresAt) external {
        bytes32 key = _ownAnchor(recordId);
        _checkReader(reader);
        _checkExpiry(expiresAt);
        _recordGrants[key][reader] = RecordGrant({expiresAt: expiresAt, exists: true});
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

    /// @notice Revoke `reader`'s grant on the caller's record `recordId`.
    /// @dev Reverts UnknownRecord / GrantNotFound as applicable.
    ///      An owner-wide grant to `reader`, if any, is untouched.
    /// @param recordId The caller's record.
    /// @param reader The grantee.
    function revokeRecord(bytes32 recordId, address reader) external {
        bytes32 key = _ownAnchor(recordId);
        if (!_recordGrants[key][reader].exists) revert GrantNotFound(msg.sender, reader, recordId);
        delete _recordGrants[key][reader];
        emit Revoked(msg.sender, reader, recordId);
    }

    /// @notice Whether `reader` may read `owner`'s record `recordId` at the current block.
    /// @dev True for the owner, or with an unexpired owner-wide grant (read or
    ///      write) or an unexpired record grant. The record's author has NO
    ///      implicit right. False for an unknown record.
    /// @param reader The account to check.
    /// @param owner The record owner.
    /// @param recordId The record.
    /// @return True if access is allowed.
    function canRead(address reader, address owner, bytes32 recordId) external view returns (bool) {
        bytes32 key = _anchorKey(owner, recordId);
        return _anchors[key].recordHash != bytes32(0) && _canRead(reader, owner, key);
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

    /// @notice The grant on `owner`'s record `recordId` to `reader`.
    /// @param owner The record owner.
    /// @param recordId The record.
    /// @param reader The grantee.
    /// @return expiresAt Expiry (0 = never); 0 if no grant.
    /// @return active True if the grant exists and has not expired at the current block.
    function recordGrantOf(address owner, bytes32 recordId, address reader)
        external
        view
        returns (uint64 expiresAt, bool active)
    {
        RecordGrant storage rg = _recordGrants[_anchorKey(owner, recordId)][reader];
        return (rg.expiresAt, rg.exists && _live(rg.expiresAt));
    }

    // ---------------------------------------------------------------------
    // Audit log
    // ---------------------------------------------------------------------

    /// @notice Append an access-log entry for `owner`'s anchored record (event only, no storage).
    /// @dev Only the owner or an account holding a live grant (owner-wide or
    ///      on this record) may log, so every AccessLogged event names an
    ///      actor that was allowed to read the record when it was logged.
    /// @param owner The record owner.
    /// @param recordId The record accessed; must be anchored.
    /// @param action Application-defined action code.
    /// @param detailHash Hash of the off-chain log entry details.
    function logAccess(address owner, bytes32 recordId, uint8 action, bytes32 detailHash) external {
        bytes32 key = _anchorKey(owner, recordId);
        if (_anchors[key].recordHash == bytes32(0)) revert UnknownRecord(owner, recordId);
        if (!_canRead(msg.sender, owner, key)) revert NotAuthorizedReader(msg.sender, owner, recordId);
        emit AccessLogged(recordId, msg.sender, owner, action, detailHash);
    }

    // ---------------------------------------------------------------------
    // Merkle-batched anchoring
    // ---------------------------------------------------------------------

    /// @notice Anchor the Merkle root of a batch of off-chain anchor leaves under the caller.
    /// @dev Callable by anyone; the root is stored under (msg.sender, root), so
    ///      someone copying the call only anchors their own entry. Leaves
    ///      (record data plus the owner's signature) are verified off-chain.
    /// @param root Non-zero Merkle root; each submitter can anchor a root once.
    /// @param count Number of leaves in the batch (non-zero).
    function anchorBatch(bytes32 root, uint32 count) external {
        if (root == bytes32(0)) revert ZeroBatchRoot();
        if (count == 0) revert EmptyBatch();
        Batch storage b = _batches[_batchKey(msg.sender, root)];
        if (b.count != 0) revert BatchAlreadyAnchored(msg.sender, root);
        b.anchoredAt = uint64(block.timestamp);
        b.blockNumber = uint64(block.number);
        b.count = count;
        emit BatchAnchored(root, msg.sender, count);
    }

    /// @notice Read the batch `submitter` anchored under `root`. Reverts with UnknownBatch if there is none.
    /// @param submitter The account that anchored the batch.
    /// @param root The batch Merkle root.
    /// @return anchoredAt Block timestamp of the anchoring block (seconds).
    /// @return blockNumber Number of the anchoring block.
    /// @return count Number of leaves in the batch.
    function getBatch(address submitter, bytes32 root)
        external
        view
        returns (uint64 anchoredAt, uint64 blockNumber, uint32 count)
    {
        Batch storage b = _batches[_batchKey(submitter, root)];
        if (b.count == 0) revert UnknownBatch(submitter, root);
        return (b.anchoredAt, b.blockNumber, b.count);
    }

    /// @notice Whether `submitter` anchored a batch under `root`.
    /// @param submitter The account that anchored the batch.
    /// @param root The batch Merkle root.
    /// @return True if the batch exists.
    function isBatchAnchored(address submitter, bytes32 root) external view returns (bool) {
        return _batches[_batchKey(submitter, root)].count != 0;
    }

    // ---------------------------------------------------------------------
    // Meta
    // ---------------------------------------------------------------------

    /// @notice Contract interface version.
    /// @return The string "PHRRegistry/2".
    function version() external pure returns (string memory) {
        return VERSION;
    }

    // ---------------------------------------------------------------------
    // Internal
    // ---------------------------------------------------------------------

    function _anchorKey(address owner, bytes32 recordId) private pure returns (bytes32) {
        return keccak256(abi.encode(owner, recordId));
    }

    function _batchKey(address submitter, bytes32 root) private pure returns (bytes32) {
        return keccak256(abi.encode(submitter, root));
    }

    function _live(uint64 expiresAt) private view returns (bool) {
        return expiresAt == 0 || block.timestamp < expiresAt;
    }

    function _canWrite(address writer, address owner) private view returns (bool) {
        if (writer == owner) return true;
        Grant storage g = _grants[owner][writer];
        return g.exists && g.canWrite && _live(g.expiresAt);
    }

    /// @dev `key` must be `_anchorKey(owner, recordId)` of an existing anchor.
    function _canRead(address reader, address owner, bytes32 key) private view returns (bool) {
        if (reader == owner) return true;
        Grant storage g = _grants[owner][reader];
        if (g.exists && _live(g.expiresAt)) return true;
        RecordGrant storage rg = _recordGrants[key][reader];
        return rg.exists && _live(rg.expiresAt);
    }

    /// @dev The key of the caller's own anchor `recordId`; reverts UnknownRecord if it does not exist.
    function _ownAnchor(bytes32 recordId) private view returns (bytes32 key) {
        key = _anchorKey(msg.sender, recordId);
        if (_anchors[key].recordHash == bytes32(0)) revert UnknownRecord(msg.sender, recordId);
    }

    function _checkReader(address reader) private view {
        if (reader == address(0) || reader == msg.sender) revert InvalidReader(reader);
    }

    function _checkExpiry(uint64 expiresAt) private view {
        if (expiresAt != 0 && expiresAt <= block.timestamp) revert InvalidExpiry(expiresAt);
    }
}
