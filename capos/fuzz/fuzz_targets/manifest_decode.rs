//! manifest.bin as the kernel and init read it: arbitrary bytes through capnp framing, the
//! decoder and the shared validator. A manifest that passes must encode and decode back to itself.
#![no_main]

use capos_schema::manifest;
use capos_schema::wire::AlignedBuf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let buf = AlignedBuf::copy_from(bytes);
    let Ok(message) = manifest::read(&buf) else { return };
    let Ok(decoded) = manifest::decode(&message) else { return };
    if manifest::validate(&decoded).is_err() {
        return;
    }
    let again = manifest::encode(&decoded);
    let copy = AlignedBuf::copy_from(&again);
    let message = manifest::read(&copy).expect("an encoded manifest frames");
    let round = manifest::decode(&message).expect("an encoded manifest decodes");
    assert_eq!(round, decoded, "a valid manifest does not round-trip");
    manifest::validate(&round).expect("a round-tripped valid manifest stays valid");
});
