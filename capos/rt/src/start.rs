//! Process entry: `_start` → `start` → the binary's `main` (declared with `entry!`) → exit.
use crate::capset::CapSet;
use crate::ring::Ring;
use crate::runtime::Runtime;
use crate::transport::Transport;
use crate::{heap_budget, panic, syscall, ALLOCATOR};
use capos_schema::ids::CONSOLE;

/// Exit code when the kernel handed over a CapSet page this runtime cannot read.
pub const BAD_CAPSET_EXIT_CODE: i32 = 120;

// The kernel enters with rdi = ring, rsi = pid, rdx = CapSet page (or 0), rsp = stack top.
// Re-align the stack to 16 (the ABI promises it; cheap to make sure), clear the frame pointer so
// backtraces end here, and call `start`, which never returns.
core::arch::global_asm!(
    ".section .text._start, \"ax\"",
    ".global _start",
    "_start:",
    "    and rsp, -16",
    "    xor ebp, ebp",
    "    call {start}",
    "    ud2",
    start = sym start,
);

unsafe extern "Rust" {
    /// Defined by `capos_rt::entry!` in the binary.
    fn __capos_main(rt: &mut Runtime) -> i32;
    /// Defined by `capos_rt::heap!` in the binary.
    fn __capos_heap() -> (*mut u8, usize);
}

extern "C" fn start(ring: u64, pid: u64, capset: u64) -> ! {
    let page = capset as *const u8;
    // SAFETY: the kernel maps the CapSet page read-only at `capset` (or passes 0) for the
    // process's lifetime; the slice covers exactly that page.
    let header = (!page.is_null()).then(|| unsafe { core::slice::from_raw_parts(page, 4096) });
    let memory = header.and_then(CapSet::memory_of).unwrap_or_default();
    // SAFETY: `heap!` returns a static of the stated size that nothing else uses; it is handed to
    // the allocator exactly once, here, before anything allocates, and at most that size.
    unsafe {
        let (bottom, declared) = __capos_heap();
        ALLOCATOR.heap.lock().init(bottom, heap_budget::usable_heap(memory, declared));
    }
    // SAFETY: as above: a readable page, or 0.
    let caps = match unsafe { CapSet::parse(page) } {
        Ok(caps) => caps,
        Err(_) => syscall::exit(BAD_CAPSET_EXIT_CODE),
    };
    panic::set_target(ring, caps.find_interface(CONSOLE).map(|e| e.cap_id));
    // SAFETY: the kernel maps the ring page at `ring` for the process's lifetime; this is the
    // only `Ring` over it apart from the panic handler, which runs only when this code stops.
    let transport = Transport::new(unsafe { Ring::new(ring as *mut u8) });
    let mut rt = Runtime::new(pid, caps, transport);
    // SAFETY: `entry!` defines this symbol with exactly this signature.
    let code = unsafe { __capos_main(&mut rt) };
    drop(rt);
    syscall::exit(code)
}
