//! A client of the virtio-blk driver. What it does follows its `role` text grant:
//!
//! - `io`: capacity, a pattern written over a few sectors, read back and compared, a flush, and
//!   each refused request (misaligned, out of range, oversized, empty);
//! - `readback`: the second boot of the same disk reads the pattern the first boot flushed;
//! - `peer`: a second client served alongside `io`;
//! - `death`: calls until the driver dies in the middle of one, then once more;
//! - `bench`: sequential and 4 KiB random throughput, and flush latency.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::{BlockDevice, Console, Endpoint, Error, Runtime, Timer};

capos_rt::entry!(main);
capos_rt::heap!(256 * 1024);

/// Where the `io` role writes its pattern, and how many sectors.
const PATTERN_AT: u64 = 100;
const PATTERN_SECTORS: u32 = 8;

fn main(rt: &mut Runtime) -> i32 {
    capos_rt::with_console(rt, |rt, console| {
        let role = rt.take::<capos_rt::Blob>("role")?.read_string()?;
        let disk = BlockDevice::new(rt.take::<Endpoint>("disk")?);
        match role.as_str() {
            "io" => io(console, &disk),
            "readback" => readback(console, &disk),
            "peer" => peer(console, &disk),
            "death" => death(console, &disk),
            "bench" => bench(console, &disk, &rt.take::<Timer>("timer")?),
            other => Err(Error::Decode(format!("unknown role {other}"))),
        }
    })
}

/// Sector `s`'s pattern: its number and a rolling byte, so a misplaced sector is caught.
fn pattern(first: u64, sectors: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(sectors as usize * 512);
    for s in first..first + sectors as u64 {
        for i in 0..512u64 {
            v.push((s.wrapping_mul(31) ^ i.wrapping_mul(7)) as u8);
        }
    }
    v
}

fn outcome<T>(r: Result<T, Error>) -> String {
    match r {
        Ok(_) => String::from("ok"),
        Err(e) => format!("{e}"),
    }
}

// region: io
fn io(console: &Console, disk: &BlockDevice) -> Result<i32, Error> {
    let info = disk.info()?;
    console.write_line(&format!(
        "capacity {} sectors of {} bytes, at most {} per request",
        info.sectors, info.sector_size, info.max_sectors
    ))?;
    let first = disk.read(PATTERN_AT, PATTERN_SECTORS)?;
    console.write_line(&format!("fresh disk reads zeros: {}", first.iter().all(|&b| b == 0)))?;
    let data = pattern(PATTERN_AT, PATTERN_SECTORS);
    disk.write(PATTERN_AT, &data)?;
    let back = disk.read(PATTERN_AT, PATTERN_SECTORS)?;
    console.write_line(&format!("wrote {} sectors, read back equal: {}", PATTERN_SECTORS, back == data))?;
    disk.flush()?;
    console.write_line("flushed")?;
    console.write_line(&format!("misaligned write: {}", outcome(disk.write(0, &[1u8; 100]))))?;
    console.write_line(&format!("read past the end: {}", outcome(disk.read(info.sectors - 1, 2))))?;
    console.write_line(&format!("oversized read: {}", outcome(disk.read(0, info.max_sectors + 1))))?;
    console.write_line(&format!("empty read: {}", outcome(disk.read(0, 0))))?;
    console.write_line(&format!("sector 2^63 read: {}", outcome(disk.read(1 << 63, 1))))?;
    disk.done()?;
    Ok(0)
}
// endregion: io

fn peer(console: &Console, disk: &BlockDevice) -> Result<i32, Error> {
    let data = pattern(10, 4);
    disk.write(10, &data)?;
    console.write_line(&format!("peer wrote and read back equal: {}", disk.read(10, 4)? == data))?;
    disk.done()?;
    Ok(0)
}

fn readback(console: &Console, disk: &BlockDevice) -> Result<i32, Error> {
    let back = disk.read(PATTERN_AT, PATTERN_SECTORS)?;
    let equal = back == pattern(PATTERN_AT, PATTERN_SECTORS);
    console.write_line(&format!("second boot reads the first boot's {} sectors: {}", PATTERN_SECTORS, equal))?;
    disk.done()?;
    Ok(0)
}

// region: death
fn death(console: &Console, disk: &BlockDevice) -> Result<i32, Error> {
    for i in 0..3 {
        console.write_line(&format!("read {i}: {}", outcome(disk.read(i, 1))))?;
    }
    console.write_line(&format!("call after the driver died: {}", outcome(disk.read(0, 1))))?;
    Ok(0)
}
// endregion: death

// region: bench
fn bench(console: &Console, disk: &BlockDevice, timer: &Timer) -> Result<i32, Error> {
    let info = disk.info()?;
    let chunk = info.max_sectors;
    let total: u64 = 4 << 20;
    let sectors = total / 512;
    let data = pattern(0, chunk);
    let t0 = timer.now()?;
    for s in (0..sectors).step_by(chunk as usize) {
        disk.write(s, &data)?;
    }
    disk.flush()?;
    let t1 = timer.now()?;
    for s in (0..sectors).step_by(chunk as usize) {
        disk.read(s, chunk)?;
    }
    let t2 = timer.now()?;
    let kib_s = |ns: u64| total * 1_000_000_000 / 1024 / ns.max(1);
    console.write_line(&format!("bench blk_seq_write {} KiB/s", kib_s(t1 - t0)))?;
    console.write_line(&format!("bench blk_seq_read {} KiB/s", kib_s(t2 - t1)))?;
    // 4 KiB reads at pseudo-random 4 KiB-aligned places (an LCG: the same places every run).
    let mut x: u64 = 12345;
    let n = 256u64;
    let t3 = timer.now()?;
    for _ in 0..n {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        disk.read((x >> 33) % (sectors / 8) * 8, 8)?;
    }
    let t4 = timer.now()?;
    console.write_line(&format!("bench blk_rand_read_4k {} IOPS", n * 1_000_000_000 / (t4 - t3).max(1)))?;
    let rounds = 32u64;
    let t5 = timer.now()?;
    for i in 0..rounds {
        disk.write(i * 8, &data[..4096])?;
        disk.flush()?;
    }
    let t6 = timer.now()?;
    console.write_line(&format!("bench blk_write_flush_4k {} us", (t6 - t5) / rounds / 1000))?;
    let t7 = timer.now()?;
    for _ in 0..rounds {
        disk.flush()?;
    }
    let t8 = timer.now()?;
    console.write_line(&format!("bench blk_flush {} us", (t8 - t7) / rounds / 1000))?;
    disk.done()?;
    Ok(0)
}
// endregion: bench
