//! The corrupt-block smoke (appendix A.7): boot 1 leaves two generations; the runner then flips
//! a byte of the newest metadata (mount rolls back) and, in a third boot, of a data block both
//! generations share (mount quarantines it; reading it answers `corrupt`).
use crate::{must, pattern, shown};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::client::store::{OpenMode, Store};
use capos_rt::{Console, Error};

const W: OpenMode = OpenMode { write: true, create: true, exclusive: false, truncate: false };
const R: OpenMode = OpenMode { write: false, create: false, exclusive: false, truncate: false };

// region: corrupt
pub fn write(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    must("write", must("keep", root.open("keep.txt", W))?.write(0, b"kept safe"))?;
    must("write", must("victim", root.open("victim.bin", W))?.write(0, &pattern(50, 8192)))?;
    console.write_line(&format!("generation 2 sync: {}", shown(&store.sync())))?;
    must("write", must("later", root.open("later.txt", W))?.write(0, b"only in generation 3"))?;
    console.write_line(&format!("generation 3 sync: {}", shown(&store.sync())))?;
    Ok(0)
}

pub fn read(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    let names: Vec<String> = must("list", root.list(""))?.into_iter().map(|(n, _)| n).collect();
    console.write_line(&format!("files: {}", names.join(", ")))?;
    let keep = must("keep", root.open("keep.txt", R))?.read(0, 100);
    let shown_keep = match &keep {
        Ok(Ok(d)) => format!("{:?}", core::str::from_utf8(d).unwrap_or("?")),
        other => shown(other),
    };
    console.write_line(&format!("keep.txt: {shown_keep}"))?;
    let victim = must("victim", root.open("victim.bin", R))?;
    let mut got = Vec::new();
    let mut outcome = String::from("ok");
    while got.len() < 8192 {
        match victim.read(got.len() as u64, 16384) {
            Ok(Ok(d)) => got.extend(d),
            other => {
                outcome = shown(&other);
                break;
            }
        }
    }
    console.write_line(&format!("victim.bin: {outcome}, equal to what was written: {}", got == pattern(50, 8192)))?;
    console.write_line(&format!("later.txt: {}", shown(&root.stat("later.txt"))))?;
    Ok(0)
}
// endregion: corrupt
