//! mkmanifest's lowering without the cue tool: arbitrary text as cue's JSON output, checked
//! field by field (closed structs, wasm instances lowered to grants, supervision, devices), then
//! assembled, validated, encoded and proven to decode to the same manifest. Each binary's bytes
//! are an ELF magic followed by its path, so the validator's magic check is reachable both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mkmanifest::{json, pack};
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let Ok(src) = json::parse(&value) else { return };
    let data: Vec<Vec<u8>> = src
        .binaries
        .iter()
        .map(|b| {
            if b.path.ends_with(".raw") {
                b.path.as_bytes().to_vec()
            } else {
                [b"\x7fELF", b.path.as_bytes()].concat()
            }
        })
        .collect();
    let manifest = pack::assemble(&src, &data);
    // encode_checked asserts the round trip itself; an Err is a field error with a path.
    if let Err(e) = pack::encode_checked(Path::new("fuzz.cue"), &manifest) {
        assert!(!e.to_string().is_empty());
    }
});
