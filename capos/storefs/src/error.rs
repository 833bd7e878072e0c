//! The volume's errors. [`FsError`] are the expected outcomes a client sees as result-union
//! variants; [`MountError`] says why no generation could be mounted.
use alloc::string::String;
use core::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No such file or directory.
    NotFound,
    /// The name is taken.
    Exists,
    /// A path component is a file.
    NotDir,
    /// A file operation named a directory.
    IsDir,
    /// Removing a directory that has entries.
    NotEmpty,
    /// Writing through a read-only Namespace or File.
    ReadOnly,
    /// No free block (copy-on-write needs room for the new copy).
    NoSpace,
    /// Empty, `.`, `..`, absolute, NUL-containing or over-long names.
    InvalidName,
    /// A block failed its checksum: it is never served.
    Corrupt,
    /// The disk refused or failed a request (the driver died, say).
    Io(String),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::NotFound => f.write_str("not found"),
            FsError::Exists => f.write_str("exists"),
            FsError::NotDir => f.write_str("not a directory"),
            FsError::IsDir => f.write_str("is a directory"),
            FsError::NotEmpty => f.write_str("directory not empty"),
            FsError::ReadOnly => f.write_str("read-only"),
            FsError::NoSpace => f.write_str("no space"),
            FsError::InvalidName => f.write_str("invalid name"),
            FsError::Corrupt => f.write_str("corrupt block"),
            FsError::Io(e) => write!(f, "disk: {e}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountError {
    /// Neither superblock is valid and the disk is not blank.
    NoValidSuperblock,
    /// The disk is too small to hold a volume.
    TooSmall(u64),
    Io(String),
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountError::NoValidSuperblock => {
                f.write_str("no valid superblock (both copies fail their checksums) and the disk is not blank")
            }
            MountError::TooSmall(s) => write!(f, "disk of {s} sectors is too small for a volume"),
            MountError::Io(e) => write!(f, "disk: {e}"),
        }
    }
}
