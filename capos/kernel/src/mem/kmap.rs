//! The kernel half's final mapping, built once at boot in place of the boot stub's 2 MiB pages:
//! the kernel image with per-section permissions in 4 KiB pages (W^X inside the kernel), the
//! stack guard pages left out, and the direct map of physical memory made non-executable.

use super::paging::{entry, index, set_entry, ADDR_MASK, NO_EXECUTE, PRESENT, UNCACHED, WRITABLE};
use super::{frame, DIRECT_MAP, DIRECT_MAP_SIZE, KERNEL_VMA};

extern "C" {
    static __text_start: u8;
    static __text_end: u8;
    static __rodata_start: u8;
    static __rodata_end: u8;
    static __data_start: u8;
    static __data_end: u8;
}

const PAGE: u64 = 4096;

// region: kernel-map
/// Remaps the kernel image in the template PML4 (whose kernel-half entries every address space
/// shares): `.text` read + execute, `.rodata` read-only, `.data`/`.bss` read-write, the last
/// two no-execute; each stack's guard page unmapped. Then sets NX on the whole direct map.
/// CR0.WP (set at boot) makes the read-only pages binding for ring 0 too, and EFER.NXE (also
/// set at boot) makes the NX bit count.
pub fn protect_kernel(pml4: u64) {
    // Only addresses of the linker's boundary symbols are taken (no read).
    let sections = [
        (core::ptr::addr_of!(__text_start), core::ptr::addr_of!(__text_end), 0),
        (core::ptr::addr_of!(__rodata_start), core::ptr::addr_of!(__rodata_end), NO_EXECUTE),
        (core::ptr::addr_of!(__data_start), core::ptr::addr_of!(__data_end), WRITABLE | NO_EXECUTE),
    ];
    let guards = crate::arch::stacks::guards();
    let pd = frame::alloc().expect("no memory for the kernel page directory");
    for (start, end, flags) in sections {
        for va in (start as u64..end as u64).step_by(PAGE as usize) {
            if guards.iter().any(|&(g, _)| g == va) {
                continue;
            }
            let pt = table_at(pd, index(va, 1));
            set_entry(pt, index(va, 0), (va - KERNEL_VMA) | PRESENT | flags);
        }
    }
    // The boot PDPT behind PML4 entry 511 keeps its place; only its entry for the kernel's GiB
    // changes, from the boot directory (shared with the direct map) to the new one. The
    // running code sees the same addresses and frames before and after.
    let pdpt = entry(pml4, index(KERNEL_VMA, 3)) & ADDR_MASK;
    set_entry(pdpt, index(KERNEL_VMA, 2), pd | PRESENT | WRITABLE);

    let dm_pdpt = entry(pml4, index(DIRECT_MAP, 3)) & ADDR_MASK;
    for gib in 0..DIRECT_MAP_SIZE >> 30 {
        let dir = entry(dm_pdpt, gib) & ADDR_MASK;
        for i in 0..512 {
            set_entry(dir, i, entry(dir, i) | NO_EXECUTE);
        }
    }
    // SAFETY: same PML4, so reloading CR3 only drops the stale translations; every address the
    // kernel uses from here on is mapped with the permissions above.
    unsafe { crate::arch::cpu::set_cr3(pml4) };
}

/// The page table under entry `i` of the directory `pd`, allocated on first use.
fn table_at(pd: u64, i: u64) -> u64 {
    let e = entry(pd, i);
    if e & PRESENT != 0 {
        return e & ADDR_MASK;
    }
    let pt = frame::alloc().expect("no memory for a kernel page table");
    set_entry(pd, i, pt | PRESENT | WRITABLE);
    pt
}
// endregion: kernel-map

// region: uncache
/// Makes the direct map's 2 MiB page holding `phys` uncached (write-through, cache-disable): the
/// page holds device registers (the IOAPIC's, the local APIC's), not RAM. Only the kernel reaches
/// the direct map, so no user mapping changes.
pub fn uncache_direct_map(pml4: u64, phys: u64) {
    let va = DIRECT_MAP + phys;
    let pdpt = entry(pml4, index(va, 3)) & ADDR_MASK;
    let dir = entry(pdpt, index(va, 2)) & ADDR_MASK;
    set_entry(dir, index(va, 1), entry(dir, index(va, 1)) | UNCACHED);
    // SAFETY: invlpg only drops a translation.
    unsafe { core::arch::asm!("invlpg [{}]", in(reg) va, options(nostack)) };
}
// endregion: uncache
