//! Transport errors: the negative values of `Cqe::result`. They say the ring entry itself was
//! unusable; failures of a method at a valid cap come back as a serialized CapException instead.

/// The opcode is not one the kernel knows.
pub const E_BAD_OPCODE: i32 = -1;
/// Reserved fields are non-zero or fields contradict each other.
pub const E_BAD_SQE: i32 = -2;
/// The cap id names no live slot (never granted, released, moved away, or a stale generation).
pub const E_BAD_CAP: i32 = -3;
/// A buffer lies outside the caller's mapped user memory or overflows.
pub const E_BAD_BUFFER: i32 = -4;
/// A length exceeds `MAX_MSG`.
pub const E_TOO_LARGE: i32 = -5;
/// The result does not fit the result buffer the caller supplied.
pub const E_RESULT_TOO_SMALL: i32 = -6;
/// A transfer descriptor is malformed (part 2).
pub const E_BAD_TRANSFER: i32 = -7;
/// The named cap does not serve this opcode (RECV or RETURN on a cap that is not an Endpoint).
pub const E_UNSUPPORTED: i32 = -8;
/// The ring indices were corrupted; the submission queue was reset.
pub const E_RING_CORRUPT: i32 = -9;

/// RECV or RETURN through an Endpoint's client facet: only the owner facet may serve.
pub const E_NOT_OWNER: i32 = -10;
/// RETURN named a call id this process has not received, or has already returned.
pub const E_BAD_CALL_ID: i32 = -11;

/// A short lowercase name for a transport error, for diagnostics.
pub fn name(code: i32) -> &'static str {
    match code {
        E_BAD_OPCODE => "bad opcode",
        E_BAD_SQE => "malformed sqe",
        E_BAD_CAP => "bad cap id",
        E_BAD_BUFFER => "bad buffer",
        E_TOO_LARGE => "too large",
        E_RESULT_TOO_SMALL => "result buffer too small",
        E_BAD_TRANSFER => "bad transfer",
        E_UNSUPPORTED => "unsupported opcode",
        E_RING_CORRUPT => "ring corrupted",
        E_NOT_OWNER => "not the endpoint owner",
        E_BAD_CALL_ID => "no such call",
        c if c >= 0 => "ok",
        _ => "unknown transport error",
    }
}
