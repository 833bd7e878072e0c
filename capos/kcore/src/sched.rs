//! The scheduler's state machine: which process runs, which wait, and in what order the rest
//! get the CPU.
//!
//! Round robin with preemption. Every process the scheduler knows is in exactly one [`State`]:
//! the run queue holds exactly the Ready ones, each once, in the order they became ready; the
//! Running one is in no queue; a Blocked one is in no queue until [`Scheduler::wake`]. An
//! exited process is forgotten, so nothing can pick it again.
//!
//! What a transition *means* on the machine (saving and loading a context, the page tables,
//! the FPU, the timer) stays in the kernel's `sched.rs`; this module only decides. Only
//! [`Scheduler::admit`] allocates, and fallibly: it reserves room for one more process in the
//! table and in the queue, so a wake-up from an interrupt path or a preemption moves pids
//! within memory already held.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

// region: states
/// What a blocked process waits for: the arguments of its `cap_enter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    /// The wait ends once this many completions are in the ring (the kernel counts them).
    pub min_complete: u32,
    /// The wait ends anyway at this time (ns since boot); `None` waits for completions only.
    pub deadline: Option<u64>,
}

/// Where a live process is. An exited one has no state: [`Scheduler::state`] says `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// In the run queue, waiting for its turn.
    Ready,
    /// Holding the CPU: entered, or about to be entered, in ring 3.
    Running,
    /// In `cap_enter`, in no queue.
    Blocked(Wait),
}

/// A transition asked in the wrong state (a kernel bug) or without memory; nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `admit` of a process the scheduler already holds.
    AlreadyAdmitted,
    /// No such process: never admitted, or exited.
    Unknown,
    /// `block` or `yield_now` of a process that does not hold the CPU.
    NotRunning,
    /// No memory for one more process's slots.
    OutOfMemory,
}
// endregion: states

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Refused::AlreadyAdmitted => "process already admitted",
            Refused::Unknown => "no such process",
            Refused::NotRunning => "process is not running",
            Refused::OutOfMemory => "no memory to schedule one more process",
        })
    }
}

// region: scheduler
/// The states of every live process, the run queue, and the running process's time slice.
pub struct Scheduler<P> {
    /// Every live process and its state, sorted by pid.
    table: Vec<(P, State)>,
    /// The Ready processes, oldest first.
    queue: VecDeque<P>,
    running: Option<P>,
    /// Ticks the running process has had since it was picked.
    slice: u64,
    /// Ticks a process may run while another is ready.
    quantum: u64,
}
// endregion: scheduler

impl<P: Copy + Ord> Scheduler<P> {
    pub const fn new(quantum: u64) -> Self {
        Scheduler { table: Vec::new(), queue: VecDeque::new(), running: None, slice: 0, quantum }
    }

    // region: admit-pick
    /// A new process joins the back of the run queue.
    pub fn admit(&mut self, pid: P) -> Result<(), Refused> {
        let Err(at) = self.find(pid) else { return Err(Refused::AlreadyAdmitted) };
        self.table.try_reserve(1).map_err(|_| Refused::OutOfMemory)?;
        // Room for every live process in the queue at once, so no later push allocates.
        let room = self.table.len() + 1 - self.queue.len();
        self.queue.try_reserve(room).map_err(|_| Refused::OutOfMemory)?;
        self.table.insert(at, (pid, State::Ready));
        self.queue.push_back(pid);
        Ok(())
    }

    /// The process to enter: the running one keeps the CPU until it blocks, exits or is
    /// preempted; otherwise the oldest Ready one takes it with a fresh slice. `None`: idle.
    pub fn pick(&mut self) -> Option<P> {
        if self.running.is_some() {
            return self.running;
        }
        let pid = self.queue.pop_front()?;
        self.set(pid, State::Running);
        self.running = Some(pid);
        self.slice = 0;
        Some(pid)
    }
    // endregion: admit-pick

    // region: block-wake
    /// `cap_enter` must wait: the running process leaves the CPU until [`Scheduler::wake`].
    pub fn block(&mut self, pid: P, wait: Wait) -> Result<(), Refused> {
        self.check_running(pid)?;
        self.running = None;
        self.set(pid, State::Blocked(wait));
        Ok(())
    }

    /// Ends a wait (enough completions arrived, or the deadline passed): the process joins
    /// the back of the queue. False, and nothing changes, when `pid` is not blocked.
    pub fn wake(&mut self, pid: P) -> bool {
        if !matches!(self.state(pid), Some(State::Blocked(_))) {
            return false;
        }
        self.set(pid, State::Ready);
        self.queue.push_back(pid);
        true
    }

    /// A blocked process whose deadline is at or before `now` (the lowest pid first).
    pub fn expired(&self, now: u64) -> Option<P> {
        self.table.iter().find_map(|&(pid, s)| match s {
            State::Blocked(Wait { deadline: Some(d), .. }) if d <= now => Some(pid),
            _ => None,
        })
    }

    /// The earliest deadline of any wait: while there is one, the kernel keeps the tick.
    pub fn next_deadline(&self) -> Option<u64> {
        self.table
            .iter()
            .filter_map(|&(_, s)| match s {
                State::Blocked(w) => w.deadline,
                _ => None,
            })
            .min()
    }
    // endregion: block-wake

    // region: tick
    /// A timer tick while the running process ran. Once it has had its quantum and another
    /// process is ready, it goes to the back of the queue; returns it then.
    pub fn tick(&mut self) -> Option<P> {
        let pid = self.running?;
        self.slice = self.slice.saturating_add(1);
        if self.slice < self.quantum || self.queue.is_empty() {
            return None;
        }
        self.yield_now(pid).ok()?;
        Some(pid)
    }

    /// The running process gives up the CPU and goes to the back of the queue.
    pub fn yield_now(&mut self, pid: P) -> Result<(), Refused> {
        self.check_running(pid)?;
        self.running = None;
        self.set(pid, State::Ready);
        self.queue.push_back(pid);
        Ok(())
    }
    // endregion: tick

    // region: exit
    /// Forgets a process wherever it was: on the CPU, in the queue or in a wait. Returns the
    /// state it had, `None` when it was unknown.
    pub fn exit(&mut self, pid: P) -> Option<State> {
        let at = self.find(pid).ok()?;
        let (_, state) = self.table.remove(at);
        match state {
            State::Running => self.running = None,
            State::Ready => {
                if let Some(i) = self.queue.iter().position(|&p| p == pid) {
                    self.queue.remove(i);
                }
            }
            State::Blocked(_) => {}
        }
        Some(state)
    }
    // endregion: exit

    pub fn state(&self, pid: P) -> Option<State> {
        self.find(pid).ok().map(|i| self.table[i].1)
    }

    pub fn running(&self) -> Option<P> {
        self.running
    }

    /// Whether a process waits for the CPU (then the tick must run, to preempt the running one).
    pub fn has_ready(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The Ready processes in the order they will run.
    pub fn ready(&self) -> impl Iterator<Item = P> + '_ {
        self.queue.iter().copied()
    }

    /// How many processes are live (in any state).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn find(&self, pid: P) -> Result<usize, usize> {
        self.table.binary_search_by(|(p, _)| p.cmp(&pid))
    }

    fn set(&mut self, pid: P, state: State) {
        if let Ok(i) = self.find(pid) {
            self.table[i].1 = state;
        }
    }

    fn check_running(&self, pid: P) -> Result<(), Refused> {
        match self.state(pid) {
            None => Err(Refused::Unknown),
            Some(_) if self.running != Some(pid) => Err(Refused::NotRunning),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
