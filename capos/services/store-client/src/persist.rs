//! Boot 1 writes and syncs; boot 2, a fresh machine on the same disk, reads back.
use crate::{must, pattern, shown};
use alloc::format;
use alloc::vec::Vec;
use capos_rt::client::store::{File, OpenMode, Store};
use capos_rt::{Console, Error};

const W: OpenMode = OpenMode { write: true, create: true, exclusive: false, truncate: false };
const R: OpenMode = OpenMode { write: false, create: false, exclusive: false, truncate: false };
/// The big file spans eleven blocks, the last one partly.
const BIG: usize = 42_000;

fn write_all(f: &File, data: &[u8]) -> Result<(), Error> {
    for (i, part) in data.chunks(16384).enumerate() {
        must("write", f.write((i * 16384) as u64, part))?;
    }
    Ok(())
}

/// The whole of `f`, in reads of at most 16 KiB.
pub fn read_all(f: &File) -> Result<Vec<u8>, Error> {
    let size = must("size", f.size())? as usize;
    let mut out = Vec::new();
    while out.len() < size {
        out.extend(must("read", f.read(out.len() as u64, 16384))?);
    }
    Ok(out)
}

// region: persist
pub fn write(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    must("mkdir", root.mkdir("keep"))?;
    write_all(&must("create", root.open("keep/big.bin", W))?, &pattern(1, BIG))?;
    write_all(&must("create", root.open("keep/note.txt", W))?, b"written in boot 1")?;
    console.write_line(&format!("sync: {}", shown(&store.sync())))?;
    // Overwrite the middle of the big file after the sync: copy-on-write keeps the synced
    // copy, and the store's unmount commits the new one.
    must("overwrite", must("open", root.open("keep/big.bin", W))?.write(10_000, &pattern(2, 5000)))?;
    console.write_line("wrote 5000 more bytes at 10000 after the sync")?;
    Ok(0)
}

pub fn read(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    let names: Vec<_> =
        must("list", root.list("keep"))?.into_iter().map(|(n, s)| format!("{n} ({} bytes)", s.size)).collect();
    console.write_line(&format!("boot 2 lists keep: {}", names.join(", ")))?;
    let mut want = pattern(1, BIG);
    want[10_000..15_000].copy_from_slice(&pattern(2, 5000));
    let big = read_all(&must("open", root.open("keep/big.bin", R))?)?;
    console.write_line(&format!("keep/big.bin equals what boot 1 wrote, byte for byte: {}", big == want))?;
    let note = read_all(&must("open", root.open("keep/note.txt", R))?)?;
    console.write_line(&format!("keep/note.txt: {:?}", core::str::from_utf8(&note).unwrap_or("?")))?;
    Ok(0)
}
// endregion: persist
