//! A process's capability table: slots addressed by generation-tagged ids.
//!
//! A cap id is `generation << 16 | index` (see `capos_abi::ring::cap_id`). Freeing a slot bumps
//! its generation, so an id kept after RELEASE (or after a MOVE, in part 2) no longer matches
//! and is refused instead of silently naming whatever object reused the slot.

use alloc::vec::Vec;
use capos_abi::ring::{cap_generation, cap_id, cap_index};

/// Most slots one process may hold; keeps a hostile process from exhausting kernel memory.
pub const MAX_CAPS: usize = 1024;

/// The table has no free slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableFull;

impl core::fmt::Display for TableFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("cap table full")
    }
}

// region: captable
struct Slot<T> {
    generation: u16,
    object: Option<T>,
}

pub struct CapTable<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u16>,
    /// Live caps this table may hold: the process's cap quota, at most [`MAX_CAPS`].
    limit: usize,
}

impl<T> CapTable<T> {
    pub const fn new() -> Self {
        CapTable { slots: Vec::new(), free: Vec::new(), limit: MAX_CAPS }
    }

    /// A table holding at most `limit` live caps (clamped to 1..=[`MAX_CAPS`]).
    pub fn with_limit(limit: usize) -> Self {
        CapTable { slots: Vec::new(), free: Vec::new(), limit: limit.clamp(1, MAX_CAPS) }
    }

    /// Stores `object` and returns its id. Generations start at 1 so id 0 is never valid.
    pub fn insert(&mut self, object: T) -> Result<u32, TableFull> {
        if self.len() >= self.limit {
            return Err(TableFull);
        }
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.object = Some(object);
            return Ok(cap_id(index, slot.generation));
        }
        if self.slots.len() >= MAX_CAPS {
            return Err(TableFull);
        }
        let index = self.slots.len() as u16;
        self.slots.push(Slot { generation: 1, object: Some(object) });
        Ok(cap_id(index, 1))
    }

    /// The object behind `id`, if the slot is live and the generation matches.
    pub fn get(&self, id: u32) -> Option<&T> {
        let slot = self.slots.get(cap_index(id) as usize)?;
        if slot.generation != cap_generation(id) {
            return None;
        }
        slot.object.as_ref()
    }

    /// Removes the object behind `id`; the slot's next occupant gets a new generation.
    pub fn remove(&mut self, id: u32) -> Option<T> {
        let index = cap_index(id);
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != cap_generation(id) {
            return None;
        }
        let object = slot.object.take()?;
        slot.generation = next_generation(slot.generation);
        self.free.push(index);
        Some(object)
    }

    /// How many more objects fit.
    pub fn room(&self) -> usize {
        self.limit - self.len()
    }

    /// Number of live caps.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every cap (process exit).
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }
}

fn next_generation(generation: u16) -> u16 {
    match generation.wrapping_add(1) {
        0 => 1,
        g => g,
    }
}
// endregion: captable

impl<T> Default for CapTable<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_remove() {
        let mut t = CapTable::new();
        let a = t.insert("a").unwrap();
        let b = t.insert("b").unwrap();
        assert_ne!(a, b);
        assert_eq!(t.get(a), Some(&"a"));
        assert_eq!(t.get(b), Some(&"b"));
        assert_eq!(t.remove(a), Some("a"));
        assert_eq!(t.get(a), None);
        assert_eq!(t.remove(a), None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn zero_id_is_never_valid() {
        let mut t = CapTable::new();
        let a = t.insert(1).unwrap();
        assert_ne!(a, 0);
        assert_eq!(t.get(0), None);
    }

    #[test]
    fn reused_slot_gets_new_generation() {
        let mut t = CapTable::new();
        let a = t.insert(1).unwrap();
        t.remove(a).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(cap_index(a), cap_index(b));
        assert_ne!(a, b);
        assert_eq!(t.get(a), None, "stale id must not reach the new occupant");
        assert_eq!(t.get(b), Some(&2));
    }

    #[test]
    fn generation_wraps_without_reaching_zero() {
        let mut t = CapTable::new();
        let mut id = t.insert(0u32).unwrap();
        for i in 0..70_000u32 {
            t.remove(id).unwrap();
            id = t.insert(i).unwrap();
            assert_ne!(cap_generation(id), 0);
        }
    }

    #[test]
    fn bounded() {
        let mut t = CapTable::new();
        for i in 0..MAX_CAPS {
            t.insert(i).unwrap();
        }
        assert_eq!(t.room(), 0);
        assert_eq!(t.insert(0), Err(TableFull));
    }

    #[test]
    fn a_cap_quota_bounds_live_caps_not_slots_ever_used() {
        let mut t = CapTable::with_limit(3);
        let ids: Vec<u32> = (0..3).map(|i| t.insert(i).unwrap()).collect();
        assert_eq!(t.insert(9), Err(TableFull));
        assert_eq!(t.room(), 0);
        t.remove(ids[1]).unwrap();
        assert_eq!(t.room(), 1);
        assert!(t.insert(9).is_ok(), "a freed slot is room again");
        assert_eq!(t.insert(10), Err(TableFull));
        assert_eq!(CapTable::<u8>::with_limit(0).room(), 1, "clamped to at least one");
        assert_eq!(CapTable::<u8>::with_limit(usize::MAX).room(), MAX_CAPS);
    }

    #[test]
    fn out_of_range_index_is_refused() {
        let mut t: CapTable<u8> = CapTable::new();
        assert_eq!(t.get(cap_id(500, 1)), None);
        assert_eq!(t.remove(cap_id(500, 1)), None);
    }
}
