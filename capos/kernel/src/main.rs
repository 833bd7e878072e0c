//! The capOS kernel.
//!
//! Design principles, in order:
//! 1. User input is hostile: a bad ring entry, pointer or manifest gives that process an error
//!    or kills it; it never panics the kernel.
//! 2. Simple over clever: one CPU, interrupts off in ring 0 (except the idle `hlt`), one kernel
//!    stack, a process is its saved register context, round-robin preemption from a 1 kHz tick.
//! 3. Portable logic (ring protocol, cap table, ELF, CapSet, heap, console lines) lives in
//!    `capos-kcore` and is tested on the host; this crate holds only hardware and glue.
#![no_std]
#![no_main]
#![forbid(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod arch;
mod boot;
mod caps;
mod devices;
mod entropy;
mod kcell;
mod manifest;
mod mem;
mod panic;
mod process;
mod prof;
mod rtc;
mod rtlib;
mod sched;
mod serial;
mod syscall;
mod time;
mod trap;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use caps::Cap;
use process::{NewGrant, Process};

extern "C" {
    static __kernel_end: u8;
}

/// Stops the machine for a problem with the boot inputs (not a kernel bug, but nothing to run).
fn boot_failed(why: core::fmt::Arguments) -> ! {
    klog!("boot failed: {}", why);
    arch::cpu::debug_exit(0x7f)
}

// region: kmain
#[no_mangle]
extern "C" fn kmain(start_info: u32, boot_tsc: u64) -> ! {
    serial::init();
    klog!("capOS booting");
    arch::gdt::init();
    arch::idt::init();
    arch::pic::init_masked();
    syscall::init();
    let info = boot::read_start_info(start_info as u64);
    let kernel_end = core::ptr::addr_of!(__kernel_end) as u64 - mem::KERNEL_VMA;
    let module = info.module.unwrap_or((0, 0));
    mem::frame::init(
        &info.memory[..info.memory_count],
        [(0x10_0000, kernel_end), (module.0, module.0 + module.1), (0, 0), (0, 0)],
    );
    mem::heap::init();
    let kernel_pml4 = mem::paging::forget_identity_map(boot::boot_pml4_phys());
    mem::kmap::protect_kernel(kernel_pml4);
    route_interrupts(info.rsdp, kernel_pml4);
    time::init(boot_tsc);
    klog!(
        "memory: {} MiB, tsc {} MHz",
        info.memory[..info.memory_count].iter().map(|r| r.1).sum::<u64>() >> 20,
        time::tsc_hz() / 1_000_000
    );
    match rtc::init() {
        Some(secs) => klog!("wall clock: {secs} s since 1970 (cmos rtc)"),
        None => klog!("wall clock: none (cmos rtc unreadable)"),
    }
    let entropy = entropy::init();
    klog!(
        "entropy: {}",
        match entropy {
            entropy::Source::Rdseed => "rdseed",
            entropy::Source::Rdrand => "rdrand",
            entropy::Source::None => "none",
        }
    );

    if module.1 == 0 || module.0 + module.1 > mem::DIRECT_MAP_SIZE {
        boot_failed(format_args!("no manifest module (pass manifest.bin with -initrd)"));
    }
    // SAFETY: the initrd lies in the direct map, is reserved from the frame allocator and is
    // never written, so it can be borrowed for the rest of the run.
    let bytes = unsafe { mem::phys_slice(module.0, module.1 as usize) };
    if let Err(e) = manifest::init(bytes) {
        boot_failed(format_args!("manifest: {e}"));
    }
    let m = manifest::get();
    devices::init(&m.devices);
    let init_service =
        m.service(capos_schema::manifest::INIT).unwrap_or_else(|| boot_failed(format_args!("no init service")));
    let image = m.binary(init_service.binary).unwrap_or_else(|| boot_failed(format_args!("no init binary")));
    // init's account is the root: every frame left, less what the kernel keeps (appendix A.9).
    // Its kernel-heap share is the heap left now, less what the kernel keeps for itself.
    let frames = mem::frame::available().saturating_sub(mem::account::KERNEL_RESERVE);
    let heap = (mem::heap::free_bytes() as u64).saturating_sub(mem::account::KERNEL_HEAP_RESERVE);
    let root = mem::account::Account::root(frames, heap);
    mem::heap::mark_init_start();
    const _: () = assert!(capos_schema::supervision::MAX_CAPS as usize == capos_kcore::captable::MAX_CAPS);
    let limits = process::Limits { account: root, caps: capos_kcore::captable::MAX_CAPS };
    let init = Process::load(1, "init", image.data, init_grants(entropy, bytes), kernel_pml4, limits)
        .unwrap_or_else(|e| boot_failed(format_args!("init: {e}")));
    sched::start(init, kernel_pml4, boot_tsc)
}
// endregion: kmain

// region: interrupts
/// Interrupts go through the IOAPIC (appendix A.6): found through ACPI, the PIT routed as its
/// MADT says, the 8259s left masked. A machine without a MADT cannot boot capOS.
fn route_interrupts(rsdp: u64, pml4: u64) {
    let found = arch::apic::init(rsdp, pml4).unwrap_or_else(|why| boot_failed(format_args!("interrupts: {why}")));
    klog!(
        "interrupts: ioapic at {:#x} (gsi {}-{}), local apic at {:#x}, {} source overrides, 8259 pics masked (acpi rsdp from the {})",
        found.ioapic, found.gsis.0, found.gsis.1, found.lapic, found.overrides, found.rsdp_from
    );
    let timer = arch::apic::route_timer().unwrap_or_else(|why| boot_failed(format_args!("timer: {why}")));
    klog!("timer: irq 0 -> gsi {} ({})", timer.gsi, devices::describe_route(&timer));
}
// endregion: interrupts

// region: init-grants
/// The caps init starts with, in CapSet order. EntropySource only when hardware provides one.
fn init_grants(entropy: entropy::Source, manifest: &'static [u8]) -> Vec<NewGrant> {
    let mut grants: Vec<(&str, Cap)> = Vec::new();
    grants.push(("console", Rc::new(caps::console::Console)));
    grants.push(("timer", Rc::new(caps::timer::Timer)));
    if entropy != entropy::Source::None {
        grants.push(("entropy", Rc::new(caps::entropy::EntropySource)));
    }
    grants.push(("bootPackage", Rc::new(caps::boot_package::BootPackage { manifest })));
    grants.push(("spawner", Rc::new(caps::process::ProcessSpawner)));
    // Only a system whose manifest lists devices has a device table to hand out.
    if !manifest::get().devices.is_empty() {
        grants.push(("devices", Rc::new(caps::device::DeviceManager { only: None })));
    }
    grants.push(("wallclock", Rc::new(caps::wallclock::WallClock)));
    // VirtualMemory acts on its caller's own address space, so init may hand it to any service
    // whose manifest grants `vmem`; a service without that grant has no way to reach it.
    grants.push(("vmem", Rc::new(caps::vmem::VirtualMemory)));
    grants.into_iter().map(|(name, cap)| NewGrant { name: String::from(name), cap }).collect()
}
// endregion: init-grants
