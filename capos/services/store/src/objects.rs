//! The store's objects: every Namespace and File cap it minted, by badge. An object lives
//! exactly as long as its facet: the kernel's release notice (when the last copy is released,
//! by its holder or by the holder's end) removes it, so a client that dies leaks nothing.
use alloc::collections::BTreeMap;
use capos_storefs::NodeId;

/// Objects alive at once; one more is refused with `tooMany`.
pub const MAX_OBJECTS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object {
    /// The subtree rooted at directory `dir`.
    Namespace {
        dir: NodeId,
        read_only: bool,
    },
    File {
        node: NodeId,
        read_only: bool,
    },
}

pub struct Objects {
    live: BTreeMap<u64, Object>,
    /// Badges are never reused: a stale one can never name a newer object.
    next_badge: u64,
}

impl Objects {
    pub fn new() -> Objects {
        Objects { live: BTreeMap::new(), next_badge: 1 }
    }

    /// A fresh badge for `object`, or None when the table is full.
    pub fn add(&mut self, object: Object) -> Option<u64> {
        if self.live.len() >= MAX_OBJECTS {
            return None;
        }
        let badge = self.next_badge;
        self.next_badge += 1;
        self.live.insert(badge, object);
        Some(badge)
    }

    pub fn get(&self, badge: u64) -> Option<Object> {
        self.live.get(&badge).copied()
    }

    pub fn remove(&mut self, badge: u64) {
        self.live.remove(&badge);
    }

    pub fn len(&self) -> usize {
        self.live.len()
    }
}
