//! The supervisor loop: every service in one table, started as soon as the services it comes
//! `after` have ended, waited for all at once (one `ProcessHandle.wait` in flight per running
//! service), killed at its deadline, restarted on failure within its limit and backoff.
//!
//! init sleeps in `cap_enter` until a wait completes or the nearest deadline or backoff is due,
//! so a looping service costs init nothing and cannot hold the others up.
use crate::{start_service, Export};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use capos_rt::abi::syscall::WAIT_FOREVER;
use capos_rt::schema::manifest::{Restart, Service};
use capos_rt::{syscall, Console, ExitStatus, PendingWait, ProcessHandle, ProcessSpawner, Runtime, Timer};

const NS_PER_MS: u64 = 1_000_000;

// region: slot
/// One service and where it is in its life.
pub struct Slot<'m> {
    pub service: &'m Service<'m>,
    state: State,
    /// Restarts so far.
    restarts: u32,
    /// How it ended for good (set with `State::Done`): true when its last run exited 0.
    pub ok: bool,
    /// The last run's ending, for init's summary (`exited with 3`, `killed: …`).
    pub ending: String,
}

enum State {
    /// Not started: some service it comes after is still running.
    Waiting,
    Running(Run),
    /// Failed; starts again at `until` (ns since boot).
    Backoff {
        until: u64,
    },
    Done,
}

struct Run {
    handle: ProcessHandle,
    wait: PendingWait,
    /// When init kills it (ns since boot).
    deadline: Option<u64>,
    killed: bool,
}

impl<'m> Slot<'m> {
    pub fn new(service: &'m Service<'m>) -> Self {
        Slot { service, state: State::Waiting, restarts: 0, ok: false, ending: String::new() }
    }
}
// endregion: slot

/// What the loop needs from init.
pub struct Supervisor<'a, 'm> {
    pub rt: &'a Runtime,
    pub console: &'a Console,
    pub spawner: &'a ProcessSpawner,
    /// Needed only by deadlines and backoffs (the validator makes sure init holds one then).
    pub timer: Option<&'a Timer>,
    pub endpoints: &'a mut Vec<Export<'m>>,
}

// region: supervise
impl<'m> Supervisor<'_, 'm> {
    /// Runs every slot until each has ended for good.
    pub fn run(&mut self, slots: &mut [Slot<'m>]) {
        loop {
            let now = self.now();
            let mut progress = false;
            for i in 0..slots.len() {
                let due = match slots[i].state {
                    State::Waiting => slots[i].service.supervision.after.iter().all(|a| is_done(slots, a)),
                    State::Backoff { until } => until <= now,
                    State::Running(_) | State::Done => false,
                };
                if due {
                    self.start(&mut slots[i], now);
                    progress = true;
                }
            }
            for slot in slots.iter_mut() {
                progress |= self.check(slot, now);
            }
            if slots.iter().all(|s| matches!(s.state, State::Done)) {
                return;
            }
            if !progress {
                self.sleep(slots, now);
            }
        }
    }

    /// Kills a run past its deadline; collects a run that ended. True when something changed.
    fn check(&mut self, slot: &mut Slot<'m>, now: u64) -> bool {
        let polled = match &mut slot.state {
            State::Running(run) => run.wait.poll(&run.handle),
            _ => return false,
        };
        if let Some(status) = polled {
            self.ended(slot, status, now);
            return true;
        }
        let State::Running(run) = &mut slot.state else { return false };
        if run.deadline.is_some_and(|d| d <= now) && !run.killed {
            run.killed = true;
            let ms = slot.service.supervision.deadline_ms.unwrap_or(0);
            // The wait in flight then completes with `killed`, which `ended` reports.
            if let Err(e) = run.handle.kill(&format!("deadline of {ms} ms passed")) {
                self.say(&format!("service {} could not be killed: {e}", slot.service.name));
            }
            return true;
        }
        false
    }

    /// Sleeps until a completion arrives or the nearest deadline or backoff is due.
    fn sleep(&self, slots: &[Slot<'m>], now: u64) {
        let next = slots
            .iter()
            .filter_map(|s| match &s.state {
                State::Running(run) if !run.killed => run.deadline,
                State::Backoff { until } => Some(*until),
                _ => None,
            })
            .min();
        let timeout = next.map_or(WAIT_FOREVER, |t| t.saturating_sub(now).max(1));
        syscall::cap_enter(1, timeout);
    }
}
// endregion: supervise

// region: start-and-end
impl<'m> Supervisor<'_, 'm> {
    fn start(&mut self, slot: &mut Slot<'m>, now: u64) {
        let service = slot.service;
        let Some(handle) = start_service(self.rt, self.console, self.spawner, self.endpoints, service) else {
            // A grant init cannot satisfy will not be satisfied by trying again.
            slot.ending = String::from("not started");
            return self.done(slot, false);
        };
        match handle.start_wait() {
            Ok(wait) => {
                let deadline = service.supervision.deadline_ms.map(|ms| now.saturating_add(u64::from(ms) * NS_PER_MS));
                slot.state = State::Running(Run { handle, wait, deadline, killed: false });
            }
            Err(e) => {
                self.say(&format!("service {} lost: {e}", service.name));
                slot.ending = String::from("lost");
                self.done(slot, false);
            }
        }
    }

    /// Prints how a run ended (as init always has), then restarts it or settles it.
    fn ended(&mut self, slot: &mut Slot<'m>, status: Result<ExitStatus, capos_rt::Error>, now: u64) {
        let name = slot.service.name;
        let (ending, ok) = match status {
            Ok(ExitStatus::Exited(code)) => (format!("exited with {code}"), code == 0),
            Ok(ExitStatus::Faulted(kind)) => (format!("faulted: {kind}"), false),
            Ok(ExitStatus::Killed(why)) => (format!("killed: {why}"), false),
            Err(e) => (format!("lost: {e}"), false),
        };
        self.say(&format!("service {name} {ending}"));
        slot.ending = ending;
        if let (false, Restart::OnFailure { limit, .. }) = (ok, slot.service.supervision.restart) {
            if slot.restarts < limit {
                slot.restarts += 1;
                let wait = slot.service.supervision.restart.backoff(slot.restarts);
                self.say(&format!("service {name} restarting in {wait} ms (restart {} of {limit})", slot.restarts));
                slot.state = State::Backoff { until: now.saturating_add(u64::from(wait) * NS_PER_MS) };
                return;
            }
            let plural = if limit == 1 { "" } else { "s" };
            self.say(&format!("service {name} given up after {limit} restart{plural}"));
        }
        self.done(slot, ok);
    }

    /// The service has ended for good. init lets go of the owner facets of its exports: the
    /// endpoint closes and callers still waiting see `disconnected`. (While a restart is coming
    /// init keeps them, so queued calls wait for the next run instead.)
    fn done(&mut self, slot: &mut Slot<'m>, ok: bool) {
        slot.state = State::Done;
        slot.ok = ok;
        for e in self.endpoints.iter_mut().filter(|e| e.service == slot.service.name) {
            e.owner = None;
        }
    }

    fn now(&self) -> u64 {
        // Without a timer no slot has a deadline or backoff, so time never matters.
        self.timer.and_then(|t| t.now().ok()).unwrap_or(0)
    }

    fn say(&self, line: &str) {
        let _ = self.console.write_line(line);
    }
}

fn is_done(slots: &[Slot<'_>], name: &str) -> bool {
    slots.iter().any(|s| s.service.name == name && matches!(s.state, State::Done))
}
// endregion: start-and-end
