//! The store's bench: the workload `demos/linux-store-bench/store.c` runs on ext4 in the Linux
//! guest, here through Namespace and File caps. Every figure is timed on the Timer cap and printed
//! as `bench <metric> <value> <unit>`; the constants are the C program's, so both sides do the same
//! calls in the same order.
use crate::{must, pattern};
use alloc::format;
use capos_rt::client::store::{File, Namespace, OpenMode, Store};
use capos_rt::{Console, Error, Timer};

const CREATE: OpenMode = OpenMode { write: true, create: true, exclusive: true, truncate: false };
/// Sequential: one 4 MiB file in 16 KiB requests.
const SEQ_BYTES: u64 = 4 << 20;
const CHUNK: usize = 16 << 10;
/// Random: 256 requests of 4 KiB at 4 KiB-aligned places in that file.
const RANDOM: u64 = 256;
const PAGE: usize = 4096;
/// Small files: 200 of 512 bytes each, in one directory.
const SMALL: u64 = 200;
const SMALL_BYTES: usize = 512;
/// Sync latency: 32 rounds of one 4 KiB write and a sync.
const SYNCS: u64 = 32;

/// The C program's generator: a 64-bit LCG whose top bits pick a 4 KiB page of the file.
struct Places(u64);

impl Places {
    fn next_offset(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % (SEQ_BYTES / PAGE as u64) * PAGE as u64
    }
}

struct Clock<'a> {
    timer: &'a Timer,
    console: &'a Console,
}

impl Clock<'_> {
    /// Runs `op` and returns the nanoseconds it took (at least 1).
    fn time(&self, op: impl FnOnce() -> Result<(), Error>) -> Result<u64, Error> {
        let t0 = self.timer.now()?;
        op()?;
        Ok((self.timer.now()? - t0).max(1))
    }

    fn print(&self, metric: &str, value: u64, unit: &str) -> Result<(), Error> {
        self.console.write_line(&format!("bench {metric} {value} {unit}"))
    }
}

const fn kib_per_s(bytes: u64, ns: u64) -> u64 {
    bytes * 1_000_000_000 / 1024 / ns
}

const fn per_s(ops: u64, ns: u64) -> u64 {
    ops * 1_000_000_000 / ns
}

// region: bench
pub fn bench(console: &Console, store: &Store, timer: &Timer) -> Result<i32, Error> {
    let clock = Clock { timer, console };
    let root = must("root", store.root())?;
    let seq = must("create seq.bin", root.open("seq.bin", CREATE))?;
    let data = pattern(7, CHUNK);
    let ns = clock.time(|| {
        for at in (0..SEQ_BYTES).step_by(CHUNK) {
            must("write", seq.write(at, &data))?;
        }
        must("sync", seq.sync())
    })?;
    clock.print("store_seq_write", kib_per_s(SEQ_BYTES, ns), "KiB/s")?;
    let ns = clock.time(|| {
        for at in (0..SEQ_BYTES).step_by(CHUNK) {
            must("read", seq.read(at, CHUNK as u32))?;
        }
        Ok(())
    })?;
    clock.print("store_seq_read", kib_per_s(SEQ_BYTES, ns), "KiB/s")?;
    random(&clock, &seq)?;
    small_files(&clock, &root, store)?;
    let file = must("create sync.bin", root.open("sync.bin", CREATE))?;
    let ns = clock.time(|| {
        for i in 0..SYNCS {
            must("write", file.write(i * PAGE as u64, &data[..PAGE]))?;
            must("sync", file.sync())?;
        }
        Ok(())
    })?;
    clock.print("store_write_sync_4k", ns / SYNCS / 1000, "us")?;
    Ok(0)
}
// endregion: bench

/// 4 KiB reads, then 4 KiB writes and one sync, at the same pseudo-random places each run.
fn random(clock: &Clock<'_>, seq: &File) -> Result<(), Error> {
    let mut places = Places(12345);
    let ns = clock.time(|| {
        for _ in 0..RANDOM {
            must("read", seq.read(places.next_offset(), PAGE as u32))?;
        }
        Ok(())
    })?;
    clock.print("store_rand_read_4k", per_s(RANDOM, ns), "IOPS")?;
    let page = pattern(8, PAGE);
    let ns = clock.time(|| {
        for _ in 0..RANDOM {
            must("write", seq.write(places.next_offset(), &page))?;
        }
        must("sync", seq.sync())
    })?;
    clock.print("store_rand_write_4k", per_s(RANDOM, ns), "IOPS")
}

/// Create (and write), stat and remove many small files; a sync ends each phase that changes them.
fn small_files(clock: &Clock<'_>, root: &Namespace, store: &Store) -> Result<(), Error> {
    must("mkdir", root.mkdir("small"))?;
    let body = pattern(9, SMALL_BYTES);
    let name = |i: u64| format!("small/f{i:03}");
    let ns = clock.time(|| {
        for i in 0..SMALL {
            must("write", must("create", root.open(&name(i), CREATE))?.write(0, &body))?;
        }
        must("sync", store.sync())
    })?;
    clock.print("store_create_512", ns / SMALL / 1000, "us")?;
    let ns = clock.time(|| {
        for i in 0..SMALL {
            must("stat", root.stat(&name(i)))?;
        }
        Ok(())
    })?;
    clock.print("store_stat", ns / SMALL / 1000, "us")?;
    let ns = clock.time(|| {
        for i in 0..SMALL {
            must("remove", root.remove(&name(i)))?;
        }
        must("sync", store.sync())
    })?;
    clock.print("store_unlink", ns / SMALL / 1000, "us")
}
