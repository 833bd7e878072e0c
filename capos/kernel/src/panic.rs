//! Kernel panics print one line, `[kernel] panic: <message> at <file>:<line>`, and stop QEMU
//! with status 0x7f.

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    match info.location() {
        Some(at) => crate::klog!("panic: {} at {}:{}", info.message(), at.file(), at.line()),
        None => crate::klog!("panic: {}", info.message()),
    }
    crate::arch::cpu::debug_exit(0x7f)
}
