//! `CapException`: how a call at a valid cap fails. The kernel writes one into the result buffer
//! and sets `CQE_EXCEPTION`; capos-rt turns it back into an error value.
use crate::capos_capnp::cap_exception;
use crate::wire;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The kind of failure, mirroring `CapException.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionKind {
    Failed,
    Overloaded,
    Disconnected,
    Unimplemented,
    InvalidArgument,
}

impl ExceptionKind {
    pub const fn name(self) -> &'static str {
        match self {
            ExceptionKind::Failed => "failed",
            ExceptionKind::Overloaded => "overloaded",
            ExceptionKind::Disconnected => "disconnected",
            ExceptionKind::Unimplemented => "unimplemented",
            ExceptionKind::InvalidArgument => "invalid argument",
        }
    }

    fn to_schema(self) -> cap_exception::Type {
        match self {
            ExceptionKind::Failed => cap_exception::Type::Failed,
            ExceptionKind::Overloaded => cap_exception::Type::Overloaded,
            ExceptionKind::Disconnected => cap_exception::Type::Disconnected,
            ExceptionKind::Unimplemented => cap_exception::Type::Unimplemented,
            ExceptionKind::InvalidArgument => cap_exception::Type::InvalidArgument,
        }
    }

    fn from_schema(ty: cap_exception::Type) -> ExceptionKind {
        match ty {
            cap_exception::Type::Failed => ExceptionKind::Failed,
            cap_exception::Type::Overloaded => ExceptionKind::Overloaded,
            cap_exception::Type::Disconnected => ExceptionKind::Disconnected,
            cap_exception::Type::Unimplemented => ExceptionKind::Unimplemented,
            cap_exception::Type::InvalidArgument => ExceptionKind::InvalidArgument,
        }
    }
}

/// A decoded `CapException`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapException {
    pub kind: ExceptionKind,
    pub reason: String,
}

impl fmt::Display for CapException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.reason)
    }
}

/// Serializes an exception as a framed message (what the kernel writes into the result buffer).
pub fn encode(kind: ExceptionKind, reason: &str) -> Vec<u8> {
    let mut message = wire::builder(wire::words_for(reason.len()));
    let mut root = message.init_root::<cap_exception::Builder>();
    root.set_type(kind.to_schema());
    root.set_reason(reason);
    wire::to_bytes(&message)
}

/// Reads an exception from a result buffer. A malformed one is reported as an error, never a panic.
pub fn decode(bytes: &[u8]) -> capnp::Result<CapException> {
    let message = wire::read(bytes)?;
    let root = message.get_root::<cap_exception::Reader>()?;
    // An unknown enum value (a newer kernel) reads as plain failure rather than an error.
    let kind = root.get_type().map(ExceptionKind::from_schema).unwrap_or(ExceptionKind::Failed);
    let reason = String::from(
        root.get_reason()?.to_str().map_err(|_| capnp::Error::failed(String::from("reason is not utf-8")))?,
    );
    Ok(CapException { kind, reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::AlignedBuf;

    #[test]
    fn exception_round_trips() {
        for kind in [
            ExceptionKind::Failed,
            ExceptionKind::Overloaded,
            ExceptionKind::Disconnected,
            ExceptionKind::Unimplemented,
            ExceptionKind::InvalidArgument,
        ] {
            let bytes = AlignedBuf::copy_from(&encode(kind, "no such method"));
            let decoded = decode(&bytes).unwrap();
            assert_eq!(decoded, CapException { kind, reason: String::from("no such method") });
        }
    }

    #[test]
    fn display_is_lowercase_kind_and_reason() {
        let e = CapException { kind: ExceptionKind::InvalidArgument, reason: String::from("len over 16384") };
        assert_eq!(alloc::format!("{e}"), "invalid argument: len over 16384");
    }

    #[test]
    fn garbage_is_an_error() {
        let bytes = AlignedBuf::copy_from(&[0xff; 24]);
        assert!(decode(&bytes).is_err());
    }
}
