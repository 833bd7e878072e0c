//! The process table and the scheduler's machine half.
//!
//! Round robin with preemption: the current process runs until it blocks in `cap_enter`, exits,
//! faults or uses up its quantum of [`time::QUANTUM_TICKS`] timer ticks; then the next runnable
//! process (FIFO) runs. Which process that is, is decided by kcore's [`Scheduler`], a state
//! machine tested on the host; this module does what its decisions mean on the machine. A
//! process is nothing but its saved [`UserContext`], so preemption is a timer interrupt that
//! saves the context like any other trap and tells the scheduler ([`Kernel::tick`]).

use crate::arch::cpu::{self, debug_exit};
use crate::arch::{enter_user, UserContext};
use crate::caps::endpoint::{self, Event};
use crate::caps::process::encode_status;
use crate::caps::{Cap, KernelDispatch};
use crate::kcell::KCell;
use crate::mem::user::UserMem;
use crate::process::{ExitStatus, Pid, Process};
use crate::{klog, time};
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use capos_abi::ring::CQ_ENTRIES;
use capos_abi::syscall::WAIT_FOREVER;
use capos_kcore::captable::CapTable;
use capos_kcore::endpoint::Delivery;
use capos_kcore::ring::{self, Outcome, PendingCall, RingState};
use capos_kcore::sched::{Scheduler, State, Wait};
use capos_kcore::usermem::UserMemory;

pub struct Kernel {
    procs: BTreeMap<Pid, Process>,
    /// Which process runs, which are ready and which wait; every process in `procs` is in it.
    sched: Scheduler<Pid>,
    next_pid: Pid,
    kernel_pml4: u64,
    init_pid: Pid,
    /// Processes a `ProcessHandle.kill` asked to end, applied after the ring pass that asked.
    kills: Vec<(Pid, alloc::string::String)>,
    /// The process whose state the FPU registers hold: the last one that ran in ring 3 (the
    /// soft-float kernel never touches them). `None` once it exited, or before anything ran.
    fpu_owner: Option<Pid>,
}

pub static KERNEL: KCell<Kernel> = KCell::new(Kernel {
    procs: BTreeMap::new(),
    sched: Scheduler::new(time::QUANTUM_TICKS),
    next_pid: 1,
    kernel_pml4: 0,
    init_pid: 0,
    kills: Vec::new(),
    fpu_owner: None,
});

/// Adopts init and runs it. Never returns.
pub fn start(init: Process, kernel_pml4: u64, boot_tsc: u64) -> ! {
    {
        let mut k = KERNEL.borrow_mut();
        k.kernel_pml4 = kernel_pml4;
        k.init_pid = init.pid;
        k.next_pid = k.next_pid.max(init.pid + 1);
        k.sched.admit(init.pid).expect("an empty scheduler has room for init");
        k.procs.insert(init.pid, init);
    }
    let us = time::tsc_to_ns(cpu::rdtsc().saturating_sub(boot_tsc)) / 1000;
    klog!("boot to init: {} us", us);
    time::start_tick();
    schedule()
}

// region: schedule
/// Picks the process to run and enters it. When nothing is runnable, halts until the next
/// timer tick and looks again, so a `cap_enter` timeout costs no CPU while it waits.
pub fn schedule() -> ! {
    loop {
        let mut k = KERNEL.borrow_mut();
        k.wake_expired(time::now_ns());
        crate::devices::deliver(&mut k);
        if let Some(pid) = k.sched.pick() {
            // The tick preempts `pid` for a waiting process, ends `cap_enter` timeouts and
            // delivers `pid`'s alarm; with none of them, `pid` runs undisturbed until it next
            // enters the kernel.
            let alarm = k.procs.get(&pid).is_some_and(|p| p.alarm.is_some());
            time::set_tick(k.sched.has_ready() || k.sched.next_deadline().is_some() || alarm);
            if k.fpu_owner != Some(pid) {
                let from = k.fpu_owner.replace(pid);
                k.switch_fpu(from, pid);
            }
            let proc = k.procs.get_mut(&pid).expect("the scheduler picks only live processes");
            if cpu::cr3() != proc.space.pml4 {
                // SAFETY: the process's PML4 maps the kernel half exactly like the boot tables.
                unsafe { cpu::set_cr3(proc.space.pml4) };
                crate::prof::switched();
            }
            let ctx: *mut UserContext = &mut *proc.ctx;
            drop(k);
            crate::prof::mark(crate::prof::Mark::Leave);
            // SAFETY: the context is boxed inside the process table and nothing touches it
            // until the process next enters the kernel (one CPU, no interrupts in ring 0).
            enter_user(unsafe { &mut *ctx });
        }
        let deadline = k.sched.next_deadline();
        drop(k);
        match deadline {
            Some(_) => {
                time::set_tick(true);
                cpu::wait_for_interrupt()
            }
            None if crate::devices::interrupt_awaited() => cpu::wait_for_interrupt(),
            // Processes can wait on each other through endpoints, so this is reachable from
            // userspace: a deadlock, reported as one rather than as a kernel panic.
            None => {
                klog!("deadlock: every process is blocked and nothing can wake them");
                debug_exit(0x7f)
            }
        }
    }
}
// endregion: schedule

impl Kernel {
    /// Saves the FPU registers into `from`'s context (if it still exists) and loads `to`'s.
    fn switch_fpu(&mut self, from: Option<Pid>, to: Pid) {
        if let Some(p) = from.and_then(|f| self.procs.get_mut(&f)) {
            crate::arch::fpu_save(&mut p.ctx);
        }
        if let Some(p) = self.procs.get(&to) {
            crate::arch::fpu_load(&p.ctx);
        }
    }

    // region: tick
    /// A timer tick interrupted the running process in ring 3: expired waits end, and the
    /// scheduler counts the tick against the process's quantum, moving it to the back of the
    /// queue once it is used up and another process is ready ([`schedule`] then picks the front).
    pub fn tick(&mut self) {
        self.wake_expired(time::now_ns());
        self.sched.tick();
    }
    // endregion: tick
}

// region: deliver-alarm
/// After a tick that interrupted `pid` in ring 3 (never one that found it in the kernel): if its
/// alarm is due, pushes the interrupted RIP below the red zone through the checked user-memory
/// path and resumes the process at the alarm's entry. A stack the push cannot use ends the
/// process, as a fault of its own. Every other register stays as the tick found it: saving
/// them is the entry's job (capos-rt's `alarm` module).
pub fn deliver_alarm(k: &mut Kernel, pid: Pid) {
    let Some(p) = k.procs.get_mut(&pid) else { return };
    let Some(alarm) = p.alarm.as_mut() else { return };
    if !alarm.take_due(time::now_ns()) {
        return;
    }
    let entry = alarm.entry;
    let (rsp, rip) = (p.ctx.regs.rsp, p.ctx.regs.rip);
    let pushed = match capos_kcore::alarm::frame(rsp) {
        Some(sp) => UserMem(&p.space).write(sp, &rip.to_le_bytes()).map(|()| sp),
        None => Err(capos_kcore::usermem::MemError::OutOfRange),
    };
    match pushed {
        Ok(sp) => {
            p.ctx.regs.rsp = sp;
            p.ctx.regs.rip = entry;
        }
        Err(e) => {
            let why = alloc::format!("alarm: cannot push the interrupted rip {rip:#x} below rsp {rsp:#x}: {e}");
            exit(k, pid, ExitStatus::Faulted(why));
        }
    }
}
// endregion: deliver-alarm

impl Kernel {
    /// Returns from `cap_enter` for every blocked process whose deadline has passed.
    fn wake_expired(&mut self, now: u64) {
        while let Some(pid) = self.sched.expired(now) {
            self.resume_cap_enter(pid);
        }
    }

    /// Ends a process's blocked `cap_enter`: rax = completions available.
    fn resume_cap_enter(&mut self, pid: Pid) {
        if !self.sched.wake(pid) {
            return;
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            p.ctx.regs.rax = ring::available(&UserMem(&p.space), &p.ring).unwrap_or(0) as u64;
        }
    }

    /// Saves the trapping process's registers.
    pub fn save_current(&mut self, frame: &crate::arch::TrapFrame) -> Option<Pid> {
        let pid = self.sched.running()?;
        self.procs.get_mut(&pid)?.ctx.save(frame);
        Some(pid)
    }

    /// Demand-fills a page of `pid`'s zero ranges (see `AddressSpace::populate`).
    pub fn populate(&mut self, pid: Pid, va: u64) -> crate::mem::paging::Populate {
        self.procs.get(&pid).map_or(crate::mem::paging::Populate::NotLazy, |p| p.space.populate(va))
    }

    pub fn ctx_mut(&mut self, pid: Pid) -> Option<&mut UserContext> {
        self.procs.get_mut(&pid).map(|p| &mut *p.ctx)
    }
}

// region: cap-enter
/// `cap_enter(min_complete, timeout_ns)`: one pass over the ring, then either return at once
/// or block until enough completions arrive or the timeout passes.
pub fn cap_enter(k: &mut Kernel, pid: Pid, min_complete: u64, timeout_ns: u64) {
    ring_pass(k, pid);
    let Some(p) = k.procs.get_mut(&pid) else { return };
    let avail = ring::available(&UserMem(&p.space), &p.ring).unwrap_or(0);
    let min = min_complete.min(CQ_ENTRIES as u64) as u32;
    let nothing_can_arrive = p.ring.inflight == 0 && timeout_ns == WAIT_FOREVER;
    if avail >= min || timeout_ns == 0 || nothing_can_arrive {
        p.ctx.regs.rax = avail as u64;
        return;
    }
    let deadline = (timeout_ns != WAIT_FOREVER).then(|| time::now_ns().saturating_add(timeout_ns));
    // Only the running process makes system calls, so the scheduler cannot refuse.
    let blocked = k.sched.block(pid, Wait { min_complete: min, deadline });
    debug_assert_eq!(blocked, Ok(()), "cap_enter from a process that is not running");
}

/// Processes the SQEs of `pid`, then applies the endpoint events its calls queued.
fn ring_pass(k: &mut Kernel, pid: Pid) {
    let Some(ok) = with_ring(k, pid, |mem, st, caps, d| ring::submit(mem, st, caps, d).is_ok()) else { return };
    if !ok {
        exit(k, pid, ExitStatus::Faulted("ring page unusable".into()));
    }
    drain_ipc(k);
    end_killed(k);
}
// endregion: cap-enter

/// Runs `f` on `pid`'s ring with a dispatch for its cap table, then adopts any processes its
/// calls spawned. None when the process is gone.
fn with_ring<R>(
    k: &mut Kernel,
    pid: Pid,
    f: impl FnOnce(&mut UserMem, &mut RingState, &mut CapTable<Cap>, &mut KernelDispatch) -> R,
) -> Option<R> {
    let Kernel { procs, next_pid, kernel_pml4, sched, kills, .. } = k;
    let p = procs.get_mut(&pid)?;
    let mut spawned = Vec::new();
    let Process { name, space, ring: state, caps, console, alarm, .. } = p;
    let space: &crate::mem::paging::AddressSpace = space;
    let mut d = KernelDispatch {
        caller: pid,
        caller_name: name,
        console,
        spawned: &mut spawned,
        next_pid,
        kernel_pml4: *kernel_pml4,
        kills,
        space,
        alarm,
    };
    let r = f(&mut UserMem(space), state, caps, &mut d);
    for child in spawned {
        // A child the scheduler has no room for is ended like a kill, after this ring pass.
        if let Err(e) = sched.admit(child.pid) {
            kills.push((child.pid, alloc::format!("not started: {e}")));
        }
        procs.insert(child.pid, child);
    }
    Some(r)
}

/// Posts a CQE into `pid`'s ring with `post`, then wakes `pid` if its `cap_enter` is now
/// satisfied. None when the process is gone.
fn post_to<R>(
    k: &mut Kernel,
    pid: Pid,
    post: impl FnOnce(&mut UserMem, &mut RingState, &mut CapTable<Cap>, &mut KernelDispatch) -> R,
) -> Option<R> {
    let r = with_ring(k, pid, post)?;
    let p = k.procs.get(&pid)?;
    if let Some(State::Blocked(Wait { min_complete, .. })) = k.sched.state(pid) {
        if ring::available(&UserMem(&p.space), &p.ring).unwrap_or(0) >= min_complete {
            k.resume_cap_enter(pid);
        }
    }
    Some(r)
}

/// [`complete`] for kernel objects outside this module (a device's interrupt).
pub fn complete_call(k: &mut Kernel, pid: Pid, pending: PendingCall, outcome: Outcome<Cap>) {
    complete(k, pid, pending, outcome);
}

/// Completes a pending call of `pid` and wakes it if its `cap_enter` is now satisfied.
fn complete(k: &mut Kernel, pid: Pid, pending: PendingCall, outcome: Outcome<Cap>) {
    post_to(k, pid, |mem, st, caps, d| ring::complete(mem, st, caps, d, pending, outcome));
}

// region: drain-ipc
/// Applies the endpoint events queued during a ring pass or an exit: deliveries into servers'
/// rings and completions of callers. Applying one may queue more (a failed delivery fails its
/// caller), so it loops until the queue is empty.
fn drain_ipc(k: &mut Kernel) {
    loop {
        let events = endpoint::take_events();
        if events.is_empty() {
            return;
        }
        for event in events {
            match event {
                Event::Complete { to, outcome } => complete(k, to.pid, to.pending, outcome),
                Event::Deliver { ep, delivery } => {
                    let Delivery { server, call_id, message } = delivery;
                    let delivered = post_to(k, server.pid, |mem, st, caps, d| {
                        let payload = (message.params, message.caps);
                        ring::deliver(mem, st, caps, d, server.pending, call_id, message.method, payload, message.badge)
                    });
                    if !matches!(delivered, Some(Ok(true))) {
                        endpoint::delivery_failed(&ep, call_id);
                    }
                }
                Event::Released { ep, badge } => endpoint::released(&ep, badge),
            }
        }
    }
}
// endregion: drain-ipc

// region: exit
/// Ends a process: flushes its console, frees its memory and caps, completes every
/// `ProcessHandle.wait` on it. Init's end ends the machine.
pub fn exit(k: &mut Kernel, pid: Pid, status: ExitStatus) {
    let Some(mut p) = k.procs.remove(&pid) else { return };
    k.sched.exit(pid);
    if k.fpu_owner == Some(pid) {
        k.fpu_owner = None;
    }
    crate::caps::console::flush(&p.name, &mut p.console);
    if let ExitStatus::Faulted(why) = &status {
        if why.starts_with("page fault") {
            klog!("{} (pid {}) killed: {} (rip {:#x})", p.name, pid, why, p.ctx.regs.rip);
        } else {
            klog!("{} (pid {}) killed: {}", p.name, pid, why);
        }
    }
    if let ExitStatus::Killed(why) = &status {
        klog!("{} (pid {}) killed by its parent: {}", p.name, pid, why);
    }
    // SAFETY: the kernel template maps the kernel half; the dying space may be the loaded one.
    unsafe { cpu::set_cr3(k.kernel_pml4) };
    p.caps.clear();
    crate::devices::process_exiting(pid, &p.space);
    let waiters = {
        let mut cell = p.exit.borrow_mut();
        cell.status = Some(status.clone());
        core::mem::take(&mut cell.waiters)
    };
    p.space.destroy();
    // The caps are gone (a last owner facet closed its endpoint); calls this process received
    // and never returned are disconnected.
    endpoint::process_exited(pid);
    drain_ipc(k);
    if pid == k.init_pid {
        crate::prof::report();
        crate::mem::heap::report();
        match status {
            ExitStatus::Exited(code) => {
                klog!("init exited with {}", code);
                debug_exit((code & 0x7f) as u8)
            }
            ExitStatus::Faulted(why) | ExitStatus::Killed(why) => {
                klog!("init faulted: {}", why);
                debug_exit(0x7f)
            }
        }
    }
    let reply = encode_status(&status);
    for (waiter, pending) in waiters {
        complete(k, waiter, pending, Outcome::Reply { data: reply.clone(), caps: Vec::new() });
    }
}
// endregion: exit

// region: kill
/// Ends the processes `ProcessHandle.kill` named during the last ring pass. A kill is an exit
/// the process did not choose: [`exit`] releases its caps (a last owner facet closes its
/// endpoint, so queued callers see `disconnected`), disconnects the calls it had received,
/// frees its address space and completes its waiters with `killed`. Nothing of it runs again:
/// it leaves the process table and the scheduler.
fn end_killed(k: &mut Kernel) {
    while !k.kills.is_empty() {
        for (pid, why) in core::mem::take(&mut k.kills) {
            exit(k, pid, ExitStatus::Killed(why));
        }
    }
}
// endregion: kill
