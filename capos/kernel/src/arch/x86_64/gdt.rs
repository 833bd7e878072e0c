//! GDT and TSS. Selector order is fixed by `syscall`/`sysret`: kernel code, kernel data, user
//! data, user code, so STAR can describe both directions.

use core::arch::asm;
use core::cell::UnsafeCell;

pub const KERNEL_CS: u16 = 0x08;
pub const KERNEL_DS: u16 = 0x10;
pub const USER_DS: u16 = 0x18 | 3;
pub const USER_CS: u16 = 0x20 | 3;
const TSS_SEL: u16 = 0x28;

#[repr(C, packed)]
struct Tss {
    _r0: u32,
    rsp: [u64; 3],
    _r1: u64,
    ist: [u64; 7],
    _r2: u64,
    _r3: u16,
    iomap_base: u16,
}

struct Tables {
    gdt: [u64; 7],
    tss: Tss,
}

struct Cell(UnsafeCell<Tables>);
// SAFETY: one CPU; written once in `init` before interrupts or other users exist.
unsafe impl Sync for Cell {}

static TABLES: Cell = Cell(UnsafeCell::new(Tables {
    gdt: [0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0x00cf_f200_0000_ffff, 0x00af_fa00_0000_ffff, 0, 0],
    tss: Tss { _r0: 0, rsp: [0; 3], _r1: 0, ist: [0; 7], _r2: 0, _r3: 0, iomap_base: 104 },
}));

/// The IST slot (1-based, as IDT gates count) used for double fault, NMI and machine check.
pub const IST_CRITICAL: u8 = 1;

// region: gdt
/// Loads the GDT and TSS. `RSP0` is where the CPU switches on entry from ring 3; IST slot 1
/// serves the critical exceptions (both stacks are guarded, see stacks.rs).
pub fn init() {
    // SAFETY: runs once at boot, before anything else refers to the tables.
    let t = unsafe { &mut *TABLES.0.get() };
    t.tss.rsp[0] = super::stacks::kernel_top();
    t.tss.ist[IST_CRITICAL as usize - 1] = super::stacks::critical_top();
    let base = &t.tss as *const Tss as u64;
    let limit = (core::mem::size_of::<Tss>() - 1) as u64;
    t.gdt[5] = limit | ((base & 0xff_ffff) << 16) | (0x89 << 40) | (((base >> 24) & 0xff) << 56);
    t.gdt[6] = base >> 32;
    #[repr(C, packed)]
    struct Ptr {
        limit: u16,
        base: u64,
    }
    let ptr = Ptr { limit: (core::mem::size_of::<[u64; 7]>() - 1) as u16, base: t.gdt.as_ptr() as u64 };
    // SAFETY: the GDT is static and its code/data descriptors match the ones in use; reloading
    // CS through a far return keeps executing the same code.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov ss, {ds:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = in(reg) KERNEL_CS as u64,
            ds = in(reg) KERNEL_DS as u64,
            tss = in(reg) TSS_SEL as u64,
            tmp = lateout(reg) _,
        );
    }
}
// endregion: gdt
