//! The two quotas a spawner meets: a child's memory reservation must fit in the spawner's own
//! account, and result caps must fit in the caller's cap table.
use crate::outcome;
use alloc::format;
use alloc::vec::Vec;
use capos_rt::{Client, Console, Error, ExitStatus, ProcessSpawner, Runtime, SpawnGrant, SpawnQuota, SpawnSource};

// region: spawn
/// A child of 8 MiB from this role's 4 MiB account is refused; one of 1 MiB runs. After it ended,
/// the refusal reports the same use as before: the child's reservation came back.
pub fn spawn(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let spawner: ProcessSpawner = rt.take("spawner")?;
    let grants = [SpawnGrant { name: "console", source: SpawnSource::Cap(console.cap().id()) }];
    let child = |mib: u64| {
        let quota = SpawnQuota { memory_bytes: mib << 20, caps: 0 };
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

// region: caps
/// Makes endpoints (two result caps each) until the table's quota refuses a pair, then shows
/// that releasing one pair makes room for the next.
pub fn fill(rt: &mut Runtime, console: &Console) -> Result<i32, Error> {
    let spawner: ProcessSpawner = rt.take("spawner")?;
    let mut pairs = Vec::new();
    let refused = loop {
        match spawner.new_endpoint() {
            Ok(pair) => pairs.push(pair),
            Err(e) => break e,
        }
        if pairs.len() > 1024 {
            return Err(Error::BadReply("the cap quota never refused a pair"));
        }
    };
    let held = rt.caps().entries().len() + 2 * pairs.len();
    console.write_line(&format!("{} endpoints made, {held} caps held; the next: {refused}", pairs.len()))?;
    pairs.pop();
    console.write_line(&format!("after releasing one pair, the next: {}", outcome(&spawner.new_endpoint())))?;
    Ok(0)
}
// endregion: caps
