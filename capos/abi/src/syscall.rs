//! Syscall numbers. Entry is the `syscall` instruction: rax = number, rdi and rsi = arguments,
//! result in rax; rcx and r11 are clobbered by the instruction itself.

/// `exit(code)`: ends the calling process; never returns.
pub const SYS_EXIT: u64 = 0;
/// `cap_enter(min_complete, timeout_ns)`: processes submitted SQEs, waits until at least
/// `min_complete` CQEs are available or `timeout_ns` passed, returns how many are available.
pub const SYS_CAP_ENTER: u64 = 1;

/// `timeout_ns` value meaning "wait as long as it takes".
pub const WAIT_FOREVER: u64 = u64::MAX;

/// What any other syscall number returns in rax (the process keeps running).
pub const UNKNOWN_SYSCALL: u64 = u64::MAX;
