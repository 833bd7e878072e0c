//! Memory reservations: a child's memory quota is reserved in full from its spawner's account
//! while the child lives, so it must fit in what that account has left.
use crate::outcome;
use alloc::format;
use capos_rt::{Client, Console, Error, ExitStatus, ProcessSpawner, Runtime, SpawnGrant, SpawnQuota, SpawnSource};

// region: spawn
/// A child of 8 MiB from this role's 4 MiB account is refused; one of 1 MiB runs. After it ended,
/// the refusal reports the same use as before: the child's reservation came back.
pub fn spawn(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let spawner: ProcessSpawner = rt.take("spawner")?;
    let grants = [SpawnGrant { name: "console", source: SpawnSource::Cap(console.cap().id()) }];
    let child = |mib: u64| {
        let quota = SpawnQuota { memory_bytes: mib << 20, ..SpawnQuota::default() };
        spawner.spawn_with_quota("child", "hello", &grants, quota)
    };
    let refused = outcome(&child(8));
    console.write_line(&format!("spawn a child of 8 MiB: {refused}"))?;
    let status = child(1)?.wait()?;
    let ended = match status {
        ExitStatus::Exited(code) => format!("exited with {code}"),
        ExitStatus::Faulted(why) => format!("faulted: {why}"),
        ExitStatus::Killed(why) => format!("killed: {why}"),
    };
    console.write_line(&format!("a child of 1 MiB {ended}"))?;
    let again = outcome(&child(8));
    let same = if again == refused { "true" } else { &again };
    console.write_line(&format!("the refusal afterwards reports the same use: {same}"))?;
    Ok(0)
}
// endregion: spawn

// region: hold
/// Keeps its own reservation (its whole memory quota, charged to init's account at its spawn)
/// for a second, so that init's next spawn meets an account that already holds it.
pub fn hold(console: &Console) -> Result<i32, Error> {
    // Nothing is in flight, so this returns after the timeout.
    capos_rt::syscall::cap_enter(1, 1_000_000_000);
    console.write_line("held the reservation for a second")?;
    Ok(0)
}
// endregion: hold
