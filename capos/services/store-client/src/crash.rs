//! The crash burst and its verifier (appendix A.7). The base boot writes state 0; the logged
//! burst moves through states 1 to 4, syncing after each but the last (which the store's
//! unmount commits); every replayed crash state must mount as exactly one of those states.
use crate::persist::read_all;
use crate::{must, pattern, shown};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use capos_rt::client::store::{Namespace, NodeKind, OpenMode, Store};
use capos_rt::{Console, Error};

const W: OpenMode = OpenMode { write: true, create: true, exclusive: false, truncate: false };
const R: OpenMode = OpenMode { write: false, create: false, exclusive: false, truncate: false };
/// The generation the base boot leaves (1: the format, 2: its sync).
const BASE_GENERATION: u64 = 2;

// region: model
/// The files of state `k`, computed from the schedule alone (not read back from anything).
pub fn expected(k: u32) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut a = pattern(10, 9000);
    m.insert(String::from("dir/b"), pattern(11, 30000));
    if k >= 1 {
        a[4000..6000].copy_from_slice(&pattern(20, 2000));
        m.insert(String::from("c"), pattern(21, 5000));
    }
    if k >= 2 {
        m.remove("dir/b");
        let c = m.remove("c").unwrap_or_default();
        m.insert(String::from("dir/c"), c);
        a.truncate(7000);
    }
    if k >= 3 {
        m.insert(String::from("big"), pattern(30, 50000));
    }
    if let Some(big) = m.get_mut("big").filter(|_| k >= 4) {
        big[..16384].copy_from_slice(&pattern(40, 16384));
    }
    if k >= 1 {
        m.insert(String::from("state"), k.to_string().into_bytes());
    }
    m.insert(String::from("a"), a);
    m
}
// endregion: model

fn put(root: &Namespace, path: &str, at: u64, data: &[u8]) -> Result<(), Error> {
    let f = must(path, root.open(path, W))?;
    for (i, part) in data.chunks(16384).enumerate() {
        must("write", f.write(at + (i * 16384) as u64, part))?;
    }
    Ok(())
}

// region: burst
/// The writes that take state `k - 1` to state `k`.
fn step(root: &Namespace, k: u32) -> Result<(), Error> {
    match k {
        1 => {
            put(root, "a", 4000, &pattern(20, 2000))?;
            put(root, "c", 0, &pattern(21, 5000))?;
        }
        2 => {
            must("remove", root.remove("dir/b"))?;
            must("rename", root.rename("c", "dir/c"))?;
            must("truncate", must("open", root.open("a", W))?.truncate(7000))?;
        }
        3 => put(root, "big", 0, &pattern(30, 50000))?,
        _ => put(root, "big", 0, &pattern(40, 16384))?,
    }
    let state = must("state", root.open("state", OpenMode { truncate: true, ..W }))?;
    must("write state", state.write(0, k.to_string().as_bytes()))?;
    Ok(())
}

pub fn base(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    must("mkdir", root.mkdir("dir"))?;
    put(&root, "a", 0, &pattern(10, 9000))?;
    put(&root, "dir/b", 0, &pattern(11, 30000))?;
    console.write_line(&format!("state 0 sync: {}, generation {}", shown(&store.sync()), store.stats()?.generation))?;
    Ok(0)
}

pub fn burst(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    for k in 1..=3 {
        step(&root, k)?;
        console.write_line(&format!(
            "state {k} sync: {}, generation {}",
            shown(&store.sync()),
            store.stats()?.generation
        ))?;
    }
    step(&root, 4)?;
    console.write_line("state 4 written, left to the store's unmount")?;
    Ok(0)
}
// endregion: burst

// region: verify
/// Every file below `dir`, by path, read in full.
fn walk(root: &Namespace, dir: &str, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), Error> {
    for (name, st) in must("list", root.list(dir))? {
        let path = if dir.is_empty() { name } else { format!("{dir}/{name}") };
        match st.kind {
            NodeKind::Dir => walk(root, &path, out)?,
            NodeKind::File => {
                let data = read_all(&must(&path, root.open(&path, R))?)?;
                out.insert(path, data);
            }
        }
    }
    Ok(())
}

pub fn verify(console: &Console, store: &Store) -> Result<i32, Error> {
    let generation = store.stats()?.generation;
    let root = must("root", store.root())?;
    let mut found = BTreeMap::new();
    walk(&root, "", &mut found)?;
    let state = found.get("state").and_then(|s| core::str::from_utf8(s).ok()?.parse::<u32>().ok()).unwrap_or(0);
    let exact = found == expected(state);
    console.write_line(&format!(
        "generation {generation} holds state {state} (the generation's own: {}): every file byte for byte, nothing else: {exact}",
        generation == BASE_GENERATION + state as u64
    ))?;
    Ok(0)
}
// endregion: verify
