//! A hostile client, a client that dies holding caps and in the middle of a call, and a client
//! whose driver dies under it (appendix A.7).
use crate::{must, pattern, shown};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::client::store::{method, OpenMode, Store};
use capos_rt::schema::capos_capnp::{file, namespace};
use capos_rt::{encode_empty_params, encode_params, Client, Console, Error};

const W: OpenMode = OpenMode { write: true, create: true, exclusive: false, truncate: false };
const R: OpenMode = OpenMode { write: false, create: false, exclusive: false, truncate: false };

fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}

// region: hostile
pub fn hostile(console: &Console, store: &Store) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let root = must("root", store.root())?;
    let f = must("create", root.open("h.bin", W))?;
    must("write", f.write(0, &pattern(7, 16384)))?;
    must("write", f.write(16384, &pattern(8, 3616)))?;
    say("read at offset 2^64-1", format!("{} bytes", must("read", f.read(u64::MAX, 10))?.len()))?;
    say("read of 4 GiB at 0", format!("{} bytes", must("read", f.read(0, u32::MAX))?.len()))?;
    say("write at offset 2^64-3", shown(&f.write(u64::MAX - 2, b"abc")))?;
    say("truncate to 2^64-1", shown(&f.truncate(u64::MAX)))?;
    // Caps that were never granted, or were released: the kernel refuses them before the store sees them.
    let t = root.endpoint().cap().transport().clone();
    say(
        "call a cap id never granted",
        outcome(t.call(0x00ab_cdef, method::SIZE, &encode_empty_params::<file::size_params::Owned>(), 256)),
    )?;
    let stale = f.endpoint().cap().id();
    drop(f);
    say(
        "call a released File",
        outcome(t.call(stale, method::SIZE, &encode_empty_params::<file::size_params::Owned>(), 256)),
    )?;
    // Methods the object does not have, and params that are not a message.
    let g = must("open", root.open("h.bin", R))?;
    say(
        "Namespace method 42",
        outcome(root.endpoint().call(42, &encode_empty_params::<file::size_params::Owned>(), &[])),
    )?;
    say(
        "a Namespace's attenuate called on a File",
        outcome(g.endpoint().call(
            method::ATTENUATE,
            &encode_params(|m| {
                m.init_root::<namespace::attenuate_params::Builder>().set_path("");
            }),
            &[],
        )),
    )?;
    say("open with params that are not a message", outcome(root.endpoint().call(method::OPEN, b"garbage!", &[])))?;
    // The object table is bounded: opens past it answer tooMany, and room comes back on release.
    let mut held = Vec::new();
    let refused = loop {
        match root.open("h.bin", R) {
            Ok(Ok(file)) => held.push(file),
            other => break shown(&other),
        }
        if held.len() > 300 {
            break String::from("never refused");
        }
    };
    say(&format!("open number {}", held.len() + 1), refused)?;
    drop(held);
    say("open after releasing them", shown(&root.open("h.bin", R)))?;
    Ok(0)
}
// endregion: hostile

// region: victim
/// Opens files, starts one more open, and exits without waiting for it or releasing anything.
pub fn victim(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    let held: Vec<_> = (0..3).map(|i| root.open(&format!("v{i}"), W)).collect();
    let p = encode_params(|m| {
        let mut r = m.init_root::<namespace::open_params::Builder>();
        r.set_path("v-mid-call");
        r.init_mode().set_create(true);
    });
    let call = root.endpoint().cap().transport().start_call(root.endpoint().cap().id(), method::OPEN, p, 4096)?;
    console.write_line(&format!("holding {} files and one open in flight; exiting", held.len()))?;
    core::mem::forget((call, held, root));
    Ok(0)
}

pub fn watcher(console: &Console, store: &Store) -> Result<i32, Error> {
    let objects = store.stats()?.objects;
    console.write_line(&format!("objects open after the victim ended: {objects}"))?;
    Ok(0)
}
// endregion: victim

// region: driver-death
pub fn driver_death(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    let f = must("create", root.open("d.bin", W))?;
    must("write", f.write(0, &pattern(3, 4096)))?;
    must("sync", store.sync())?;
    for i in 0..200 {
        if let Err(e) = f.read(0, 4096) {
            console.write_line(&format!("read {}: {e}", if i > 0 { "after some" } else { "0" }))?;
            break;
        }
    }
    console.write_line(&format!("a call after the driver died: {}", shown(&root.stat("d.bin"))))?;
    Ok(0)
}
// endregion: driver-death
