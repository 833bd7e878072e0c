//! Namespaces, attenuation and every expected outcome.
use crate::{kind, must, shown};
use alloc::format;
use alloc::string::String;
use capos_rt::client::store::{OpenMode, Store};
use capos_rt::{Console, Error};

const W: OpenMode = OpenMode { write: true, create: true, exclusive: false, truncate: false };
const R: OpenMode = OpenMode { write: false, create: false, exclusive: false, truncate: false };

// region: basic
pub fn basic(console: &Console, store: &Store) -> Result<i32, Error> {
    let say = |what: &str, how: String| console.write_line(&format!("{what}: {how}"));
    let root = must("root", store.root())?;
    say("mkdir docs", shown(&root.mkdir("docs")))?;
    let a = must("create docs/a.txt", root.open("docs/a.txt", W))?;
    say("write 11 bytes to docs/a.txt", shown(&a.write(0, b"hello store")))?;
    let back = must("read", a.read(0, 100))?;
    say("read it back", format!("{:?}", core::str::from_utf8(&back).unwrap_or("?")))?;
    let st = must("stat", root.stat("docs/a.txt"))?;
    say("stat docs/a.txt", format!("{} of {} bytes", kind(st.kind), st.size))?;
    say("create docs/a.txt exclusively", shown(&root.open("docs/a.txt", OpenMode { exclusive: true, ..W })))?;
    say("open a missing file", shown(&root.open("docs/missing", R)))?;
    say("open docs/a.txt/x", shown(&root.open("docs/a.txt/x", W)))?;
    say("open a directory as a file", shown(&root.open("docs", R)))?;
    say("list a file", shown(&root.list("docs/a.txt")))?;
    say("remove a directory with entries", shown(&root.remove("docs")))?;
    for bad in ["..", "../x", "/etc/passwd", "docs/../docs", "", "a\0b", "docs//a.txt", "."] {
        say(&format!("open {bad:?}"), shown(&root.open(bad, W)))?;
    }
    say("rename docs into itself", shown(&root.rename("docs", "docs/inner")))?;
    say("write 2^40 bytes in", shown(&a.write(1 << 40, b"x")))?;
    // Attenuation: a read-only view of docs alone.
    let ro = must("attenuate", root.attenuate("docs", true))?;
    let names: alloc::vec::Vec<String> = must("list", ro.list(""))?.into_iter().map(|(n, _)| n).collect();
    say("read-only docs lists", names.join(","))?;
    let f = must("open read-only", ro.open("a.txt", R))?;
    say("read-only read", format!("{:?}", core::str::from_utf8(&must("read", f.read(0, 5))?).unwrap_or("?")))?;
    say("read-only write through its file", shown(&f.write(0, b"x")))?;
    say("read-only truncate", shown(&f.truncate(0)))?;
    say("read-only open for writing", shown(&ro.open("a.txt", W)))?;
    say("read-only mkdir", shown(&ro.mkdir("d")))?;
    say("read-only remove", shown(&ro.remove("a.txt")))?;
    say("read-only rename", shown(&ro.rename("a.txt", "b.txt")))?;
    say("read-only reaching above its root", shown(&ro.stat("../docs")))?;
    let again = must("attenuate again", ro.attenuate("", false))?;
    say("attenuate a read-only namespace writable", shown(&again.open("a.txt", W)))?;
    say("attenuate to a file", shown(&root.attenuate("docs/a.txt", false)))?;
    // Renames and removal; a File whose file is gone answers notFound.
    say("rename docs/a.txt to docs/b.txt", shown(&root.rename("docs/a.txt", "docs/b.txt")))?;
    say("the old name", shown(&root.stat("docs/a.txt")))?;
    say("the file, open across the rename", format!("{} bytes", must("size", a.size())?))?;
    say("remove docs/b.txt", shown(&root.remove("docs/b.txt")))?;
    say("the open file after its removal", shown(&a.read(0, 1)))?;
    say("remove the empty docs", shown(&root.remove("docs")))?;
    let t = must("create t", root.open("t", W))?;
    must("write t", t.write(0, &[7u8; 10000]))?;
    say("truncate t to 5000", shown(&t.truncate(5000)))?;
    say(
        "t after truncation",
        format!("{} bytes, byte 4999 = {}", must("size", t.size())?, must("read", t.read(4999, 1))?[0]),
    )?;
    say(
        "grow t to 6000; byte 5500",
        format!("{}", {
            must("truncate", t.truncate(6000))?;
            must("read", t.read(5500, 1))?[0]
        }),
    )?;
    say("read past the end", format!("{} bytes", must("read", t.read(1 << 20, 10))?.len()))?;
    say("sync", shown(&t.sync()))?;
    let s = store.stats()?;
    // (peer's file may or may not exist yet: only what app alone decides is printed)
    say(
        "stats",
        format!("{} directory, generation >= 2: {}, objects open >= 3: {}", s.dirs, s.generation >= 2, s.objects >= 3),
    )?;
    Ok(0)
}
// endregion: basic

pub fn peer(console: &Console, store: &Store) -> Result<i32, Error> {
    let root = must("root", store.root())?;
    let data = crate::pattern(99, 20000);
    let f = must("create peer.bin", root.open("peer.bin", W))?;
    must("write", f.write(0, &data[..16384]))?;
    must("write", f.write(16384, &data[16384..]))?;
    must("sync", store.sync())?;
    let mut back = must("read", f.read(0, 16384))?;
    back.extend(must("read", f.read(16384, 16384))?);
    console.write_line(&format!("peer wrote 20000 bytes and read them back equal: {}", back == data))?;
    Ok(0)
}
