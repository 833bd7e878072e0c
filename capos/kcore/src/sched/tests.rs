use super::*;
use crate::test_rng::Rng;
use std::collections::BTreeMap;

const QUANTUM: u64 = 3;

fn forever() -> Wait {
    Wait { min_complete: 1, deadline: None }
}

fn until(deadline: u64) -> Wait {
    Wait { min_complete: 1, deadline: Some(deadline) }
}

fn with(pids: &[u32]) -> Scheduler<u32> {
    let mut s = Scheduler::new(QUANTUM);
    for &p in pids {
        s.admit(p).unwrap();
    }
    s
}

fn queued(s: &Scheduler<u32>) -> Vec<u32> {
    s.ready().collect()
}

#[test]
fn admit_queues_in_arrival_order_and_refuses_a_live_pid() {
    let mut s = with(&[7, 3, 5]);
    assert_eq!(queued(&s), [7, 3, 5], "arrival order, not pid order");
    assert_eq!(s.admit(3), Err(Refused::AlreadyAdmitted));
    assert_eq!(queued(&s), [7, 3, 5]);
    assert_eq!((s.state(3), s.state(4), s.len()), (Some(State::Ready), None, 3));
}

#[test]
fn pick_takes_the_oldest_and_keeps_the_running_one() {
    let mut s = with(&[1, 2]);
    assert_eq!(s.pick(), Some(1));
    assert_eq!(s.pick(), Some(1), "the running process keeps the CPU");
    assert_eq!((s.state(1), queued(&s)), (Some(State::Running), vec![2]));
    assert_eq!(Scheduler::<u32>::new(QUANTUM).pick(), None, "nothing to run: idle");
}

#[test]
fn block_takes_the_cpu_away_and_only_from_the_running_process() {
    let mut s = with(&[1, 2]);
    s.pick();
    assert_eq!(s.block(2, forever()), Err(Refused::NotRunning));
    assert_eq!(s.block(9, forever()), Err(Refused::Unknown));
    assert_eq!(s.block(1, until(50)), Ok(()));
    assert_eq!((s.running(), s.state(1)), (None, Some(State::Blocked(until(50)))));
    assert_eq!(s.block(1, forever()), Err(Refused::NotRunning), "blocked is not running");
    assert_eq!(s.pick(), Some(2));
}

#[test]
fn wake_sends_a_blocked_process_to_the_back_of_the_queue() {
    let mut s = with(&[1, 2, 3]);
    s.pick();
    s.block(1, forever()).unwrap();
    assert!(!s.wake(2), "a ready process is not woken");
    assert!(!s.wake(9));
    assert!(s.wake(1));
    assert!(!s.wake(1), "a second wake finds it ready");
    assert_eq!(queued(&s), [2, 3, 1]);
}

/// The kernel before kcore's scheduler kept a process that blocked and was woken before the
/// next pick (a timeout already passed, a device completion) as current *and* queued it, so it
/// ran ahead of everyone waiting and then again from its stale queue entry.
#[test]
fn a_process_woken_before_the_next_pick_waits_its_turn() {
    let mut s = with(&[1, 2]);
    s.pick();
    s.block(1, until(0)).unwrap();
    assert_eq!(s.expired(0), Some(1));
    assert!(s.wake(1));
    assert_eq!(s.pick(), Some(2));
    s.yield_now(2).unwrap();
    assert_eq!(s.pick(), Some(1));
    assert_eq!(queued(&s), [2], "one entry per ready process");
}

#[test]
fn deadlines_expire_at_or_after_their_time() {
    let mut s = with(&[1, 2, 3]);
    for (pid, wait) in [(1, until(30)), (2, forever()), (3, until(20))] {
        assert_eq!(s.pick(), Some(pid));
        s.block(pid, wait).unwrap();
    }
    assert_eq!(s.next_deadline(), Some(20));
    assert_eq!(s.expired(19), None);
    assert_eq!(s.expired(20), Some(3));
    assert_eq!(s.expired(u64::MAX), Some(1), "lowest pid first");
    s.wake(1);
    s.wake(3);
    assert_eq!((s.next_deadline(), s.expired(u64::MAX)), (None, None), "a wait forever never expires");
}

#[test]
fn tick_preempts_after_the_quantum_only_when_another_process_is_ready() {
    let mut s = with(&[1]);
    s.pick();
    for _ in 0..2 * QUANTUM {
        assert_eq!(s.tick(), None, "alone, a process keeps the CPU");
    }
    s.admit(2).unwrap();
    assert_eq!(s.tick(), Some(1), "its quantum was used up long ago");
    assert_eq!((s.running(), queued(&s)), (None, vec![2, 1]));
    assert_eq!(s.pick(), Some(2));
    assert_eq!((s.tick(), s.tick()), (None, None));
    assert_eq!(s.tick(), Some(2), "the third tick of a fresh slice");
    assert_eq!(Scheduler::<u32>::new(QUANTUM).tick(), None, "a tick while idle");
}

#[test]
fn yield_now_goes_to_the_back() {
    let mut s = with(&[1, 2]);
    assert_eq!(s.yield_now(1), Err(Refused::NotRunning));
    s.pick();
    assert_eq!(s.yield_now(1), Ok(()));
    assert_eq!(queued(&s), [2, 1]);
}

#[test]
fn exit_forgets_a_process_in_every_state() {
    let mut s = with(&[1, 2, 3, 4]);
    s.pick();
    s.block(1, until(5)).unwrap();
    s.pick();
    assert_eq!(s.exit(3), Some(State::Ready));
    assert_eq!(s.exit(2), Some(State::Running));
    assert_eq!(s.running(), None);
    assert_eq!(s.exit(1), Some(State::Blocked(until(5))));
    assert_eq!((s.exit(1), s.exit(9)), (None, None));
    assert_eq!((queued(&s), s.next_deadline(), s.len()), (vec![4], None, 1));
    assert_eq!((s.pick(), s.pick()), (Some(4), Some(4)), "an exited process is never picked");
}

#[test]
fn only_admit_allocates() {
    let mut s = with(&[1, 2, 3]);
    let held = (s.table.capacity(), s.queue.capacity());
    assert!(held.1 >= 3);
    for _ in 0..100 {
        let pid = s.pick().unwrap();
        s.block(pid, forever()).unwrap();
        s.wake(pid);
        let next = s.pick().unwrap();
        s.yield_now(next).unwrap();
        s.exit(9);
    }
    assert_eq!((s.table.capacity(), s.queue.capacity()), held);
}

// region: model
/// The reference: plain vectors, searched linearly, with each rule written the obvious way.
#[derive(Default)]
struct Model {
    running: Option<u32>,
    ready: Vec<u32>,
    blocked: Vec<(u32, Wait)>,
    slice: u64,
}

impl Model {
    fn state(&self, pid: u32) -> Option<State> {
        if self.running == Some(pid) {
            Some(State::Running)
        } else if self.ready.contains(&pid) {
            Some(State::Ready)
        } else {
            self.blocked.iter().find(|b| b.0 == pid).map(|b| State::Blocked(b.1))
        }
    }

    fn admit(&mut self, pid: u32) -> Result<(), Refused> {
        if self.state(pid).is_some() {
            return Err(Refused::AlreadyAdmitted);
        }
        self.ready.push(pid);
        Ok(())
    }

    fn pick(&mut self) -> Option<u32> {
        if self.running.is_none() && !self.ready.is_empty() {
            self.running = Some(self.ready.remove(0));
            self.slice = 0;
        }
        self.running
    }

    fn leave(&mut self, pid: u32) -> Result<(), Refused> {
        match self.state(pid) {
            None => Err(Refused::Unknown),
            Some(_) if self.running != Some(pid) => Err(Refused::NotRunning),
            Some(_) => {
                self.running = None;
                Ok(())
            }
        }
    }

    fn block(&mut self, pid: u32, wait: Wait) -> Result<(), Refused> {
        self.leave(pid)?;
        self.blocked.push((pid, wait));
        Ok(())
    }

    fn yield_now(&mut self, pid: u32) -> Result<(), Refused> {
        self.leave(pid)?;
        self.ready.push(pid);
        Ok(())
    }

    fn wake(&mut self, pid: u32) -> bool {
        let Some(i) = self.blocked.iter().position(|b| b.0 == pid) else { return false };
        self.blocked.remove(i);
        self.ready.push(pid);
        true
    }

    fn expired(&self, now: u64) -> Option<u32> {
        self.blocked.iter().filter(|b| b.1.deadline.is_some_and(|d| d <= now)).map(|b| b.0).min()
    }

    fn tick(&mut self) -> Option<u32> {
        let pid = self.running?;
        self.slice += 1;
        if self.slice >= QUANTUM && !self.ready.is_empty() {
            self.yield_now(pid).ok()?;
            return Some(pid);
        }
        None
    }

    fn exit(&mut self, pid: u32) -> Option<State> {
        let was = self.state(pid)?;
        if self.running == Some(pid) {
            self.running = None;
        }
        self.ready.retain(|&p| p != pid);
        self.blocked.retain(|b| b.0 != pid);
        Some(was)
    }
}

/// For each Ready process: how many processes were ahead of it when it joined the queue, and
/// how many other processes have been picked since. Round robin means the second never passes
/// the first, whatever else happens (processes joining behind it, exiting ahead of it).
type Waiting = BTreeMap<u32, (usize, usize)>;

/// Compares the scheduler with the model and checks the invariants that hold by themselves.
fn check(s: &Scheduler<u32>, m: &Model, pids: u32, exited: &[u32], ctx: &str) {
    assert_eq!(s.running(), m.running, "{ctx}: running");
    assert_eq!(queued(s), m.ready, "{ctx}: run queue order");
    for pid in 1..=pids {
        assert_eq!(s.state(pid), m.state(pid), "{ctx}: state of {pid}");
    }
    let running = (1..=pids).filter(|&p| s.state(p) == Some(State::Running)).count();
    assert!(running <= 1 && (running == 1) == s.running().is_some(), "{ctx}: one running at most");
    let queue = queued(s);
    for (i, p) in queue.iter().enumerate() {
        assert_eq!(s.state(*p), Some(State::Ready), "{ctx}: {p} queued but not ready");
        assert!(!queue[i + 1..].contains(p), "{ctx}: {p} queued twice");
    }
    let ready = (1..=pids).filter(|&p| s.state(p) == Some(State::Ready)).count();
    assert_eq!(ready, queue.len(), "{ctx}: every ready process is queued");
    for p in exited {
        assert!(s.state(*p).is_none() && !queue.contains(p), "{ctx}: exited {p} still scheduled");
    }
    assert!(s.queue.capacity() >= s.len(), "{ctx}: queue room for every process");
    assert_eq!(s.next_deadline(), m.blocked.iter().filter_map(|b| b.1.deadline).min(), "{ctx}: next deadline");
}

fn joined(w: &mut Waiting, s: &Scheduler<u32>, pid: u32) {
    if s.state(pid) == Some(State::Ready) {
        w.insert(pid, (s.queue.len() - 1, 0));
    }
}

fn picked(w: &mut Waiting, pid: u32, ctx: &str) {
    w.remove(&pid);
    for (p, (ahead, passed)) in w.iter_mut() {
        *passed += 1;
        assert!(*passed <= *ahead, "{ctx}: {p} was passed {passed} times with {ahead} ahead of it");
    }
}

/// One random sequence of `steps` operations from `seed`, checked after every operation.
fn run_sequence(seed: u64, steps: usize) {
    let mut rng = Rng::new(seed);
    let mut s: Scheduler<u32> = Scheduler::new(QUANTUM);
    let mut m = Model::default();
    let mut waiting = Waiting::new();
    let mut exited = Vec::new();
    let (mut pids, mut now) = (0u32, 0u64);
    for step in 0..steps {
        let ctx = format!("seed {seed} step {step}");
        // Any pid ever used or about to be: live, exited or unknown.
        let any = 1 + rng.below(u64::from(pids) + 2) as u32;
        let target = if rng.below(4) == 0 { any } else { m.running.unwrap_or(any) };
        let held = (s.table.capacity(), s.queue.capacity());
        let mut allocating = false;
        match rng.below(100) {
            0..=11 if s.len() < 12 => {
                pids += 1;
                allocating = true;
                assert_eq!(s.admit(pids), m.admit(pids), "{ctx}: admit");
                joined(&mut waiting, &s, pids);
            }
            // Pids are never reused, so a second admit names a live process.
            0..=14 if any <= pids && !exited.contains(&any) => {
                assert_eq!(s.admit(any), Err(Refused::AlreadyAdmitted), "{ctx}: admit {any}");
                assert_eq!(m.admit(any), Err(Refused::AlreadyAdmitted), "{ctx}: model admit {any}");
            }
            15..=34 => {
                let before = s.running();
                let got = s.pick();
                assert_eq!(got, m.pick(), "{ctx}: pick");
                if let (None, Some(pid)) = (before, got) {
                    assert!(!exited.contains(&pid), "{ctx}: exited {pid} picked");
                    picked(&mut waiting, pid, &ctx);
                }
                let nothing_ready = m.ready.is_empty() && m.running.is_none();
                assert_eq!(got.is_none(), nothing_ready, "{ctx}: idle only with nothing ready");
            }
            35..=49 => {
                let deadline = (rng.below(2) == 0).then(|| now + rng.below(40));
                let wait = Wait { min_complete: rng.below(4) as u32, deadline };
                assert_eq!(s.block(target, wait), m.block(target, wait), "{ctx}: block {target}");
            }
            50..=57 => {
                assert_eq!(s.wake(any), m.wake(any), "{ctx}: wake {any}");
                joined(&mut waiting, &s, any);
            }
            58..=67 => {
                now += rng.below(20);
                while let Some(pid) = s.expired(now) {
                    assert_eq!(Some(pid), m.expired(now), "{ctx}: expired at {now}");
                    assert!(s.wake(pid) && m.wake(pid), "{ctx}: wake expired {pid}");
                    joined(&mut waiting, &s, pid);
                }
                assert_eq!(m.expired(now), None, "{ctx}: the model has nothing more expired");
            }
            68..=81 => {
                let got = s.tick();
                assert_eq!(got, m.tick(), "{ctx}: tick");
                if let Some(pid) = got {
                    joined(&mut waiting, &s, pid);
                }
            }
            82..=89 => {
                assert_eq!(s.yield_now(target), m.yield_now(target), "{ctx}: yield {target}");
                joined(&mut waiting, &s, target);
            }
            _ => {
                let pid = if rng.below(2) == 0 { target } else { any };
                assert_eq!(s.exit(pid), m.exit(pid), "{ctx}: exit {pid}");
                waiting.remove(&pid);
                if pid <= pids && !exited.contains(&pid) {
                    exited.push(pid);
                }
            }
        }
        if !allocating {
            assert_eq!((s.table.capacity(), s.queue.capacity()), held, "{ctx}: only admit allocates");
        }
        check(&s, &m, pids + 2, &exited, &ctx);
    }
    // Every process that is ready now runs within one round, without anything else happening.
    let mut due: Vec<u32> = queued(&s).into_iter().chain(s.running()).collect();
    for _ in 0..=due.len() {
        let Some(pid) = s.pick() else { break };
        due.retain(|&p| p != pid);
        s.yield_now(pid).unwrap();
    }
    assert!(due.is_empty(), "seed {seed}: {due:?} never ran");
}

/// SEQUENCES seeded sequences of STEPS random operations each, every one checked against the
/// model and the invariants.
const SEQUENCES: u64 = 1000;
const STEPS: usize = 1000;

#[test]
fn random_operations_match_the_reference_model() {
    for seed in 1..=SEQUENCES {
        run_sequence(seed, STEPS);
    }
}
// endregion: model
