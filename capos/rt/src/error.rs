//! What a capability call or lookup can fail with.
use alloc::string::String;
use capos_schema::exception::CapException;
use core::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The kernel refused the ring entry itself (negative CQE result, see `abi::err`).
    Transport(i32),
    /// The call reached a valid cap and failed there.
    Exception(CapException),
    /// The reply could not be decoded.
    Decode(String),
    /// The reply broke the ABI (e.g. a length past the buffer, a missing result cap).
    BadReply(&'static str),
    /// No CapSet entry has this name.
    NotGranted(String),
    /// The CapSet entry exists but implements another interface.
    WrongInterface { name: String, expected: &'static str, found: &'static str },
    /// A client for this CapSet entry was already created.
    AlreadyTaken(String),
    /// The submission queue stayed full after the kernel was entered.
    RingFull,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(code) => write!(f, "{} (transport error {code})", capos_abi::err::name(*code)),
            Error::Exception(e) => write!(f, "exception: {e}"),
            Error::Decode(why) => write!(f, "cannot decode reply: {why}"),
            Error::BadReply(why) => write!(f, "bad reply: {why}"),
            Error::NotGranted(name) => write!(f, "no cap named \"{name}\" was granted"),
            Error::WrongInterface { name, expected, found } => {
                write!(f, "cap \"{name}\" is a {found}, not a {expected}")
            }
            Error::AlreadyTaken(name) => write!(f, "cap \"{name}\" is already in use"),
            Error::RingFull => write!(f, "submission queue full"),
        }
    }
}

impl From<capnp::Error> for Error {
    fn from(e: capnp::Error) -> Error {
        Error::Decode(alloc::string::ToString::to_string(&e))
    }
}
