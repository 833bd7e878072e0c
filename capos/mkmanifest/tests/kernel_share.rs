//! The quota's kernel-heap share (`kernelKiB`, appendix A.9) end to end: real `cue export` on a
//! small module, mkmanifest's field checks, the shared validator's rules, and the packed value.
//! Needs the pinned cue (build/tools/cue or $CUE).
use capos_schema::manifest;
use capos_schema::supervision::Quota;
use capos_schema::wire::AlignedBuf;
use mkmanifest::{run, Options};
use std::fs;

mod common;
use common::{refused, small_module};

fn manifest_with(quota: &str) -> String {
    format!(
        r#"
schemaVersion: 1
binaries: init: {{path: "build/init", kind: "elf"}}
initConfig: services: [
	{{name: "init", binary: "init", grants: {{console: kernel: "console"}}}},
	{{name: "svc", binary: "init", quota: {quota}}},
]
"#
    )
}

fn options(case: &str, quota: &str) -> Options {
    small_module("mkmanifest-kernel-share", case, &manifest_with(quota))
}

/// Runs mkmanifest on a manifest whose service has `quota`, and reads the quota back from the output.
fn packed(case: &str, quota: &str) -> Quota {
    let opts = options(case, quota);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    manifest::decode(&message).unwrap().service("svc").unwrap().supervision.quota
}

#[test]
fn a_share_with_its_memory_is_packed_in_bytes() {
    let quota = packed("good", "{memoryMiB: 8, kernelKiB: 512}");
    assert_eq!((quota.memory_mib, quota.kernel_kib), (Some(8), Some(512)));
    assert_eq!(quota.kernel_bytes(), 512 * 1024);
}

#[test]
fn no_share_asked_means_the_kernel_default() {
    let quota = packed("default", "{memoryMiB: 8}");
    assert_eq!((quota.kernel_kib, quota.kernel_bytes()), (None, 0), "0 on the wire: the kernel's 256 KiB");
}

#[test]
fn a_share_without_memory_of_its_own_is_refused() {
    let text = refused(&options("alone", "{kernelKiB: 512}"));
    assert!(
        text.ends_with("initConfig.services[1].quota.kernelKiB: a kernelKiB share is reserved with a memory quota of the service's own: add memoryMiB"),
        "{text}"
    );
}

#[test]
fn a_share_of_zero_or_over_half_the_heap_is_refused() {
    let text = refused(&options("zero", "{memoryMiB: 8, kernelKiB: 0}"));
    assert!(text.contains("initConfig.services[1].quota.kernelKiB: a quota of 0 could hold nothing"), "{text}");
    let text = refused(&options("huge", "{memoryMiB: 8, kernelKiB: 20000}"));
    assert!(
        text.ends_with("initConfig.services[1].quota.kernelKiB: a kernelKiB quota of 20000 is over the limit of 16384"),
        "{text}"
    );
    let text = refused(&options("text", r#"{memoryMiB: 8, kernelKiB: "lots"}"#));
    assert!(text.contains("initConfig.services[1].quota.kernelKiB"), "{text}");
}
