// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Sigil measurement registry
/// @notice Each owner (any address) publishes the enclave measurements (PCR0,
///         48 bytes, SHA-384) it vouches for, with the hash of the build that
///         produced them and a short description, and later deprecates them.
///
///         Entries are keyed by (owner, keccak256(measurement)): what one owner
///         does never changes another owner's answers, so a verifier asks about
///         the owner it already trusts (the canonical owner) and nobody else.
///         There is no global "who owns these bytes" lookup to squat on.
///
///         Deprecation is permanent: a deprecated measurement stays in the
///         owner's history and can never be registered again by that owner.
///         Every entry an owner ever registered stays readable, in order.
///
///         The description is self-reported by the owner and not checked here
///         (not even for UTF-8); only its length is bounded. Display it as the
///         owner's claim, never as a fact established by this contract.
///
///         Timestamps are block timestamps. `deprecatedAt == 0` means active,
///         which relies on block timestamps being non-zero (true after genesis
///         on every chain); `isActive` and `getEntry` read a separate flag.
///
///         The registry records; it does not judge. An all-zero measurement can
///         be registered like any other 48 bytes: clients refuse it.
contract SigilMeasurementRegistry {
    uint256 public constant MEASUREMENT_BYTES = 48;
    uint256 public constant MAX_DESCRIPTION_BYTES = 256;

    /// A measurement argument that is not exactly MEASUREMENT_BYTES long.
    error BadMeasurementLength(uint256 length);
    /// A description longer than MAX_DESCRIPTION_BYTES bytes (UTF-8 bytes, not characters).
    error DescriptionTooLong(uint256 length, uint256 max);
    /// The owner already registered these bytes: active or deprecated, never again.
    error AlreadyRegistered(address owner, bytes measurement);
    /// The owner never registered these bytes.
    error NotRegistered(address owner, bytes measurement);
    /// The owner already deprecated these bytes.
    error AlreadyDeprecated(address owner, bytes measurement);

    event MeasurementRegistered(
        address indexed owner, bytes32 indexed measurementHash, bytes measurement, bytes32 buildHash, string description
    );
    event MeasurementDeprecated(address indexed owner, bytes32 indexed measurementHash, bytes measurement);

    /// One history entry. The 48 measurement bytes are stored as 32 + 16 so the
    /// tail shares a slot with both timestamps (4 slots plus the description,
    /// instead of 5 with a dynamic `bytes`).
    struct Entry {
        bytes32 head; // measurement[0:32]
        bytes16 tail; // measurement[32:48]
        uint64 registeredAt;
        uint64 deprecatedAt; // 0 while active
        bytes32 buildHash;
        string description;
    }

    /// Where an (owner, measurement) pair lives in the owner's history, and
    /// whether it is deprecated: one slot, so isActive costs a single SLOAD.
    struct Ref {
        uint64 indexPlusOne; // 0: never registered by this owner
        bool deprecated;
    }

    mapping(address => Entry[]) private _history;
    mapping(address => mapping(bytes32 => Ref)) private _refs;

    /// @notice Registers `measurement` for the caller. Reverts if the caller
    ///         registered the same bytes before, even if deprecated since.
    function register(bytes calldata measurement, bytes32 buildHash, string calldata description) external {
        _checkLength(measurement);
        if (bytes(description).length > MAX_DESCRIPTION_BYTES) {
            revert DescriptionTooLong(bytes(description).length, MAX_DESCRIPTION_BYTES);
        }
        bytes32 h = keccak256(measurement);
        Ref storage ref = _refs[msg.sender][h];
        if (ref.indexPlusOne != 0) revert AlreadyRegistered(msg.sender, measurement);

        Entry[] storage history = _history[msg.sender];
        Entry storage e = history.push();
        e.head = bytes32(measurement[0:32]);
        e.tail = bytes16(measurement[32:48]);
        e.registeredAt = uint64(block.timestamp);
        e.buildHash = buildHash;
        e.description = description;
        ref.indexPlusOne = uint64(history.length);

        emit MeasurementRegistered(msg.sender, h, measurement, buildHash, description);
    }

    /// @notice Deprecates the caller's `measurement`, permanently. The entry
    ///         stays in the caller's history with its deprecation time.
    function deprecate(bytes calldata measurement) external {
        _checkLength(measurement);
        bytes32 h = keccak256(measurement);
        Ref storage ref = _refs[msg.sender][h];
        if (ref.indexPlusOne == 0) revert NotRegistered(msg.sender, measurement);
        if (ref.deprecated) revert AlreadyDeprecated(msg.sender, measurement);

        ref.deprecated = true;
        _history[msg.sender][ref.indexPlusOne - 1].deprecatedAt = uint64(block.timestamp);

        emit MeasurementDeprecated(msg.sender, h, measurement);
    }

    /// @notice True iff `owner` registered `measurement` and has not deprecated it.
    function isActive(address owner, bytes calldata measurement) external view returns (bool) {
        _checkLength(measurement);
        Ref storage ref = _refs[owner][keccak256(measurement)];
        return ref.indexPlusOne != 0 && !ref.deprecated;
    }

    /// @notice The entry `owner` registered for `measurement`; all zero with
    ///         `exists == false` if there is none.
    function getEntry(address owner, bytes calldata measurement)
        external
        view
        returns (
            bool exists,
            bool active,
            bytes32 buildHash,
            string memory description,
            uint64 registeredAt,
            uint64 deprecatedAt
        )
    {
        _checkLength(measurement);
        Ref storage ref = _refs[owner][keccak256(measurement)];
        if (ref.indexPlusOne == 0) return (false, false, bytes32(0), "", 0, 0);
        Entry storage e = _history[owner][ref.indexPlusOne - 1];
        return (true, !ref.deprecated, e.buildHash, e.description, e.registeredAt, e.deprecatedAt);
    }

    /// @notice How many measurements `owner` ever registered (active or not).
    function historyLength(address owner) external view returns (uint256) {
        return _history[owner].length;
    }

    /// @notice The `index`-th measurement `owner` registered, oldest first.
    ///         An index past the end reverts with Panic(0x32).
    function historyAt(address owner, uint256 index)
        external
        view
        returns (
            bytes memory measurement,
            bytes32 buildHash,
            string memory description,
            uint64 registeredAt,
            uint64 deprecatedAt
        )
    {
        Entry storage e = _history[owner][index];
        return (abi.encodePacked(e.head, e.tail), e.buildHash, e.description, e.registeredAt, e.deprecatedAt);
    }

    function _checkLength(bytes calldata measurement) private pure {
        if (measurement.length != MEASUREMENT_BYTES) revert BadMeasurementLength(measurement.length);
    }
}
