//! The cap quota: result caps must fit in the caller's cap table, which holds at most the
//! manifest's `caps` live caps.
use crate::outcome;
use alloc::format;
use alloc::vec::Vec;
use capos_rt::{Console, Error, ProcessSpawner, Runtime};

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
