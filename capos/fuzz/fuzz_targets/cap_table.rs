//! The cap table against a model: random inserts, lookups, removals and clears, checked against
//! a map of live ids, plus ids the table once handed out and took back (which must stay dead).
#![no_main]

use arbitrary::Arbitrary;
use capos_abi::ring::{cap_generation, cap_index};
use capos_kcore::captable::{CapTable, TableFull, MAX_CAPS};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Arbitrary, Debug)]
enum Op {
    Insert(u32),
    /// Insert many at once, to reach the table's bound.
    Fill(u16),
    GetLive(u16),
    GetDead(u16),
    GetRaw(u32),
    RemoveLive(u16),
    RemoveDead(u16),
    RemoveRaw(u32),
    Clear,
}

fn nth<T: Copy>(set: impl Iterator<Item = T>, len: usize, i: u16) -> Option<T> {
    if len == 0 {
        return None;
    }
    set.into_iter().nth(i as usize % len)
}

fuzz_target!(|ops: Vec<Op>| {
    let mut table = CapTable::new();
    let mut live: BTreeMap<u32, u32> = BTreeMap::new();
    // Ids removed while the slot has not been reused by 65535 generations: they must not resolve.
    let mut dead: BTreeSet<u32> = BTreeSet::new();
    let insert =
        |table: &mut CapTable<u32>, live: &mut BTreeMap<u32, u32>, dead: &mut BTreeSet<u32>, v: u32| match table
            .insert(v)
        {
            Ok(id) => {
                assert_ne!(cap_generation(id), 0, "generation 0 is never handed out");
                assert!(live.insert(id, v).is_none(), "id {id:#x} handed out twice");
                dead.remove(&id);
                assert!((cap_index(id) as usize) < MAX_CAPS);
            }
            Err(TableFull) => assert_eq!(live.len(), MAX_CAPS, "refused with room left"),
        };
    for op in ops.iter().take(4096) {
        match *op {
            Op::Insert(v) => insert(&mut table, &mut live, &mut dead, v),
            Op::Fill(n) => {
                for v in 0..(n % 1100) as u32 {
                    insert(&mut table, &mut live, &mut dead, v);
                }
            }
            Op::GetLive(i) => {
                if let Some(id) = nth(live.keys().copied(), live.len(), i) {
                    assert_eq!(table.get(id), live.get(&id));
                }
            }
            Op::GetDead(i) => {
                if let Some(id) = nth(dead.iter().copied(), dead.len(), i) {
                    assert_eq!(table.get(id), None, "stale id {id:#x} resolved");
                }
            }
            Op::GetRaw(id) => assert_eq!(table.get(id), live.get(&id)),
            Op::RemoveLive(i) => {
                if let Some(id) = nth(live.keys().copied(), live.len(), i) {
                    assert_eq!(table.remove(id), live.remove(&id));
                    dead.insert(id);
                }
            }
            Op::RemoveDead(i) => {
                if let Some(id) = nth(dead.iter().copied(), dead.len(), i) {
                    assert_eq!(table.remove(id), None, "stale id {id:#x} removed something");
                }
            }
            Op::RemoveRaw(id) => {
                let removed = table.remove(id);
                assert_eq!(removed, live.remove(&id));
                if removed.is_some() {
                    dead.insert(id);
                }
            }
            Op::Clear => {
                table.clear();
                dead.extend(live.keys().copied());
                live.clear();
            }
        }
        assert_eq!(table.len(), live.len());
        assert_eq!(table.room(), MAX_CAPS - live.len());
        // An id that is live again (its slot came round to the same generation) is no longer dead.
        dead.retain(|id| !live.contains_key(id));
    }
});
