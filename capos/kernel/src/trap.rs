//! Where every entry from ring 3 (and every kernel fault) lands after the assembly stubs.

use crate::arch::entry::VECTOR_SYSCALL;
use crate::arch::TrapFrame;
use crate::arch::{apic, cpu, pic, stacks};
use crate::mem::paging::Populate;
use crate::process::ExitStatus;
use crate::sched::{self, KERNEL};
use crate::syscall;
use alloc::format;
use alloc::string::String;

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug trap",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid tss",
        11 => "segment not present",
        12 => "stack fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "simd floating point error",
        _ => "cpu exception",
    }
}

/// The ExitStatus text for a user fault: `page fault at <addr>` or `<kind> at <rip>`.
fn describe(frame: &TrapFrame, cr2: u64) -> String {
    match frame.vector {
        14 => format!("page fault at {cr2:#x}"),
        v => format!("{} at {:#x}", exception_name(v), frame.rip),
    }
}

// region: trap-entry
/// Returns only for an interrupt that arrived in ring 0, which can happen only inside
/// `cpu::wait_for_interrupt` (the idle `hlt`): the tick is acknowledged and the scheduler's idle
/// loop, which holds no kernel state at that point, looks at the clock again.
#[no_mangle]
extern "C" fn trap_entry(frame: &mut TrapFrame) {
    let cr2 = cpu::cr2();
    if frame.cs & 3 != 3 {
        match frame.vector {
            apic::VECTOR_BASE => return apic::eoi(),
            v if pic::SPURIOUS_VECTORS.contains(&v) => return,
            v if v < 48 && crate::devices::line_of_vector(v).is_some() => {
                return crate::devices::irq(crate::devices::line_of_vector(v).unwrap_or(0));
            }
            _ => {}
        }
        // A stack overflow ends in a double fault (the page-fault frame cannot be pushed onto
        // the exhausted stack) with CR2 in the guard page; say so instead of "double fault".
        if let Some(stack) = stacks::guard_hit(cr2).filter(|_| matches!(frame.vector, 8 | 14)) {
            panic!("kernel stack overflow: the {stack} stack ran into its guard page at {cr2:#x}");
        }
        panic!(
            "{} in kernel at rip {:#x} (error {:#x}, cr2 {:#x})",
            exception_name(frame.vector),
            frame.rip,
            frame.error,
            cr2
        );
    }
    crate::prof::mark(crate::prof::Mark::Entry);
    {
        let mut k = KERNEL.borrow_mut();
        let pid = k.save_current(frame).expect("entry from ring 3 without a current process");
        crate::prof::mark(crate::prof::Mark::Saved);
        match frame.vector {
            VECTOR_SYSCALL => syscall::handle(&mut k, pid),
            // A not-present fault inside a zero range: back the page and retry the access. A
            // process whose quota cannot pay for the page ends with that as its fault.
            14 if frame.error & 1 == 0 => match k.populate(pid, cr2) {
                Populate::Filled => {}
                Populate::OutOfMemory(e) => {
                    sched::exit(&mut k, pid, ExitStatus::Faulted(format!("out of memory at {cr2:#x}: {e}")))
                }
                Populate::NotLazy => sched::exit(&mut k, pid, ExitStatus::Faulted(describe(frame, cr2))),
            },
            v if v < 32 => sched::exit(&mut k, pid, ExitStatus::Faulted(describe(frame, cr2))),
            apic::VECTOR_BASE => {
                apic::eoi();
                k.tick();
                sched::deliver_alarm(&mut k, pid);
            }
            // A device line (appendix A.6): recorded here, delivered by the scheduler.
            v if !pic::SPURIOUS_VECTORS.contains(&v) && crate::devices::line_of_vector(v).is_some() => {
                crate::devices::irq(crate::devices::line_of_vector(v).unwrap_or(0));
            }
            // Every other line is masked; a spurious IRQ 7/15 needs no acknowledgement.
            _ => {}
        }
        crate::prof::mark(crate::prof::Mark::Handled);
    }
    sched::schedule()
}
// endregion: trap-entry
