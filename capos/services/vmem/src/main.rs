//! Exercises the VirtualMemory cap (issue #17, first piece) on its own address space:
//! - reserves a range, commits it read-write, writes a pattern and reads it back;
//! - writes two tiny x86-64 functions, switches the page to read-execute and calls them;
//! - rewrites the code (RX -> RW -> RX) and calls it again, so the switch really takes;
//! - gives memory back and takes it again, and is refused `overloaded` past its quota;
//! - makes every bad argument and checks each refusal's kind, printing its text.
//!
//! It never touches a page against its protection: a fault would end the process, so W^X is
//! proved by the kernel's refusals instead. An instance without the grant reports that and
//! exits 0. Exits with the number of checks that went wrong.
#![no_std]
#![no_main]
extern crate alloc;

use alloc::format;
use capos_rt::probe::Checks;
use capos_rt::schema::exception::ExceptionKind;
use capos_rt::{Console, Error, Runtime, VirtualMemory, VmProt};

capos_rt::entry!(main);
capos_rt::heap!(128 * 1024);

const PAGE: u64 = 4096;
const MIB: u64 = 1024 * 1024;
/// `mov eax, 42; ret`
const RETURN_42: [u8; 6] = [0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3];
/// `lea eax, [rdi + rsi]; ret`: the sum of the first two System V arguments.
const ADD: [u8; 4] = [0x8d, 0x04, 0x37, 0xc3];
/// `mov eax, 7; ret`
const RETURN_7: [u8; 6] = [0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3];

fn main(rt: &mut Runtime) -> i32 {
    let Ok(console) = rt.take::<Console>("console") else {
        return 2;
    };
    let vm = match rt.take::<VirtualMemory>("vmem") {
        Ok(vm) => vm,
        Err(e) => {
            let _ = console.write_line(&format!("vmem: no VirtualMemory cap: {e}"));
            return 0;
        }
    };
    let mut t = Checks::new(&console, "vmem");
    if let Err(e) = run(&vm, &mut t) {
        t.unexpected(&e);
    }
    t.wrong
}

fn run(vm: &VirtualMemory, t: &mut Checks<'_>) -> Result<(), Error> {
    let base = vm.reserve(4 * PAGE)?;
    t.say(&format!("vmem: reserved 4 pages at {base:#x}"));
    vm.commit(base, 2 * PAGE, VmProt::READ_WRITE)?;
    let data = base + PAGE;
    let fresh_zero = (0..PAGE).all(|i| peek(data + i) == 0);
    for i in 0..PAGE {
        poke(data + i, (i * 7 + 3) as u8);
    }
    let back = (0..PAGE).all(|i| peek(data + i) == (i * 7 + 3) as u8);
    t.expect("committed page reads zero, then reads back 4096 written bytes", fresh_zero && back);

    // Code: written through the read-write mapping, then made read-execute.
    write_code(base, &RETURN_42);
    write_code(base + 16, &ADD);
    vm.protect(base, PAGE, VmProt::READ_EXECUTE)?;
    // SAFETY: the page at `base` is mapped read-execute and holds the function `RETURN_42`.
    let r42 = unsafe { call0(base) };
    // SAFETY: `base + 16` holds `ADD`, a leaf function over two u32 arguments.
    let sum = unsafe { call2(base + 16, 40, 2) };
    t.say(&format!("vmem: called code it wrote: {r42}, add(40, 2) = {sum}"));
    t.expect("code returned 42 and 42", r42 == 42 && sum == 42);

    // Back to read-write, new code, read-execute again: the new code is what runs.
    vm.protect(base, PAGE, VmProt::READ_WRITE)?;
    write_code(base, &RETURN_7);
    vm.protect(base, PAGE, VmProt::READ_EXECUTE)?;
    // SAFETY: as above, the page now holds `RETURN_7`.
    let r7 = unsafe { call0(base) };
    t.say(&format!("vmem: rewrote the code and called it again: {r7}"));
    t.expect("rewritten code returned 7", r7 == 7);

    refusals(vm, base, t);
    quota(vm, t)?;
    vm.release(base, 4 * PAGE)?;
    t.say("vmem: released everything it committed");
    Ok(())
}

/// Each bad argument, refused with its reason; none of them changes anything.
fn refusals(vm: &VirtualMemory, base: u64, t: &mut Checks<'_>) {
    use ExceptionKind::InvalidArgument as Bad;
    let (rw, rx) = (VmProt::READ_WRITE, VmProt::READ_EXECUTE);
    t.refused("protect to read-write-execute", vm.protect(base, PAGE, VmProt { bits: 7 }), Bad);
    t.refused("commit executable", vm.commit(base + 2 * PAGE, PAGE, rx), Bad);
    t.refused("commit with unknown prot", vm.commit(base + 2 * PAGE, PAGE, VmProt { bits: 8 }), Bad);
    t.refused("commit at an unaligned address", vm.commit(base + 2 * PAGE + 1, PAGE, rw), Bad);
    t.refused("commit of an unaligned length", vm.commit(base + 2 * PAGE, 100, rw), Bad);
    t.refused("commit of zero bytes", vm.commit(base + 2 * PAGE, 0, rw), Bad);
    t.refused("commit of a huge length", vm.commit(base, !(PAGE - 1), rw), Bad);
    t.refused("commit in the kernel half", vm.commit(0xffff_8000_0000_0000, PAGE, rw), Bad);
    t.refused("commit past the reservation", vm.commit(base + 2 * PAGE, 3 * PAGE, rw), Bad);
    t.refused("commit over its own program image", vm.commit(0x40_0000, PAGE, rw), Bad);
    t.refused("commit over a committed page", vm.commit(base + PAGE, 2 * PAGE, rw), Bad);
    t.refused("protect of an uncommitted page", vm.protect(base + 2 * PAGE, PAGE, VmProt::READ), Bad);
    t.refused("release outside every reservation", vm.release(0x40_0000, PAGE), Bad);
    t.refused("reserve of zero bytes", vm.reserve(0).map(drop), Bad);
    t.refused("reserve of a huge length", vm.reserve(!(PAGE - 1)).map(drop), Bad);
}

/// Memory comes from the quota and goes back to it: 3 MiB twice (released between) fits a
/// 4 MiB quota, 8 MiB does not.
fn quota(vm: &VirtualMemory, t: &mut Checks<'_>) -> Result<(), Error> {
    let big = vm.reserve(8 * MIB)?;
    for round in 1..=2 {
        vm.commit(big, 3 * MIB, VmProt::READ_WRITE)?;
        poke(big + 3 * MIB - 1, round);
        vm.release(big, 3 * MIB)?;
    }
    t.say("vmem: committed and released 3 MiB twice under a 4 MiB quota");
    t.refused("commit of 8 MiB past the quota", vm.commit(big, 8 * MIB, VmProt::READ_WRITE), ExceptionKind::Overloaded);
    vm.commit(big, MIB, VmProt::READ_WRITE)?;
    t.say("vmem: a refused commit left nothing charged: 1 MiB commits after it");
    vm.release(big, MIB)
}

fn write_code(at: u64, code: &[u8]) {
    for (i, b) in code.iter().enumerate() {
        poke(at + i as u64, *b);
    }
}

fn peek(addr: u64) -> u8 {
    // SAFETY: every address passed here lies in a page this process committed readable.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

fn poke(addr: u64, value: u8) {
    // SAFETY: every address passed here lies in a page this process committed read-write.
    unsafe { core::ptr::write_volatile(addr as *mut u8, value) }
}

/// Calls the function at `addr`.
///
/// # Safety
/// `addr` must be in a read-execute page holding a leaf function with this signature.
unsafe fn call0(addr: u64) -> u32 {
    // SAFETY: the caller guarantees the code at `addr`.
    let f: extern "C" fn() -> u32 = unsafe { core::mem::transmute(addr as usize) };
    f()
}

/// Calls the two-argument function at `addr`.
///
/// # Safety
/// As for [`call0`].
unsafe fn call2(addr: u64, a: u32, b: u32) -> u32 {
    // SAFETY: the caller guarantees the code at `addr`.
    let f: extern "C" fn(u32, u32) -> u32 = unsafe { core::mem::transmute(addr as usize) };
    f(a, b)
}
