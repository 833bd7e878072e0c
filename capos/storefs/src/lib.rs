//! The store's on-disk format (appendix A.7): a copy-on-write volume of 4 KiB blocks with two
//! superblocks, every block checksummed, over any [`Disk`].
//!
//! Invariants, in the order the book explains them:
//! 1. A block referenced by either of the two newest committed generations is never written.
//!    Everything a sync writes goes to blocks free in both, so a crash at any point leaves both
//!    generations' blocks as they were.
//! 2. A generation is committed by one superblock sector, written only after a flush made every
//!    block it names durable, and followed by a flush before `sync` returns.
//! 3. Every superblock, metadata blob and data block carries a CRC-32C; mount takes the newest
//!    generation whose superblock, metadata and data all check out, else the one before it, and
//!    never serves a block whose checksum fails.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod crc;
pub mod disk;
pub mod error;
pub mod layout;
pub mod meta;
pub mod path;
pub mod volume;

pub use disk::Disk;
pub use error::{FsError, MountError};
pub use meta::{Kind, NodeId, ROOT};
pub use volume::{MountReport, OpenMode, Stat, Volume};
