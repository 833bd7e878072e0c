//! Supervision fields end to end (appendix A.5): real `cue export` on a small module, mkmanifest's
//! field checks and defaults, and the shared validator's whole-manifest rules (after names,
//! cycles), each error naming the CUE file and field. Needs the pinned cue (build/tools/cue or $CUE).
use capos_schema::manifest::{self, Restart};
use capos_schema::wire::AlignedBuf;
use mkmanifest::{run, Options};
use std::fs;

mod common;
use common::{refused, small_module};

const GOOD: &str = r#"
schemaVersion: 1
binaries: init: {path: "build/init", kind: "elf"}
initConfig: services: [
	{name: "init", binary: "init", grants: {console: kernel: "console", timer: kernel: "timer"}},
	{name: "a", binary: "init", restart: "on-failure", deadlineMs: 2500, mustSucceed: false},
	{name: "b", binary: "init", after: ["a"], restart: "on-failure", restartLimit: 5, restartBackoffMs: 20},
	{name: "c", binary: "init", after: ["a", "b"]},
]
"#;

fn error_text(case: &str, manifest: &str) -> String {
    refused(&options(case, manifest))
}

fn options(case: &str, manifest: &str) -> Options {
    small_module("mkmanifest-supervision", case, manifest)
}

#[test]
fn fields_are_packed_with_their_defaults() {
    let opts = options("good", GOOD);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    let a = &m.service("a").unwrap().supervision;
    assert_eq!(a.restart, Restart::OnFailure { limit: 3, backoff_ms: 100 }, "the documented defaults");
    assert_eq!((a.deadline_ms, a.must_succeed, a.after.len()), (Some(2500), false, 0));
    let b = &m.service("b").unwrap().supervision;
    assert_eq!(b.restart, Restart::OnFailure { limit: 5, backoff_ms: 20 });
    assert_eq!(b.after, ["a"]);
    assert!(b.must_succeed);
    let c = &m.service("c").unwrap().supervision;
    assert_eq!((c.restart, c.deadline_ms, c.after.clone()), (Restart::Never, None, vec!["a", "b"]));
    assert_eq!(Restart::OnFailure { limit: 5, backoff_ms: 20 }.backoff(3), 80, "doubled per restart");
}

#[test]
fn a_bad_after_names_the_file_and_field() {
    let text = error_text("unknown", &GOOD.replace(r#"after: ["a", "b"]"#, r#"after: ["a", "nobody"]"#));
    assert!(text.ends_with(
        "system-test.cue: initConfig.services[3].after[1]: after \"nobody\" names no other service (init and the service itself cannot be named)"
    ), "{text}");
    let text = error_text("self", &GOOD.replace(r#"after: ["a", "b"]"#, r#"after: ["c"]"#));
    assert!(text.ends_with("initConfig.services[3].after[0]: after \"c\" names no other service (init and the service itself cannot be named)"), "{text}");
    let text = error_text("init", &GOOD.replace(r#"after: ["a", "b"]"#, r#"after: ["init"]"#));
    assert!(text.contains("initConfig.services[3].after[0]: after \"init\""), "{text}");
}

#[test]
fn a_cycle_is_refused_with_its_path() {
    let text = error_text(
        "cycle",
        &GOOD.replace(r#"{name: "a", binary: "init","#, r#"{name: "a", binary: "init", after: ["c"],"#),
    );
    assert!(
        text.ends_with("initConfig.services[1].after: services come after each other in a cycle (a -> c -> a), so none of them could start"),
        "{text}"
    );
}

#[test]
fn bad_values_name_the_field_and_the_reason() {
    let cases = [
        (
            r#"restart: "on-failure", deadlineMs"#,
            r#"restart: "always", deadlineMs"#,
            "initConfig.services[1].restart: expected \"never\" or \"on-failure\"",
        ),
        (
            "restartLimit: 5",
            "restartLimit: 40",
            "initConfig.services[2].restartLimit: restart limit 40 is outside 1 to 16",
        ),
        (
            "restartLimit: 5",
            "restartLimit: 0",
            "initConfig.services[2].restartLimit: restart limit 0 is outside 1 to 16",
        ),
        (
            "restartBackoffMs: 20",
            "restartBackoffMs: 3600001",
            "initConfig.services[2].restartBackoffMs: 3600001 ms is over the limit of 3600000 ms",
        ),
        (
            "deadlineMs: 2500",
            "deadlineMs: 0",
            "initConfig.services[1].deadlineMs: a deadline of 0 ms could never be met (leave the field out for none)",
        ),
        (
            "deadlineMs: 2500",
            "deadlineMs: -1",
            "initConfig.services[1].deadlineMs: expected a whole number of milliseconds",
        ),
        (
            r#"after: ["a", "b"]"#,
            r#"after: ["a", "b"], restartLimit: 2"#,
            "initConfig.services[3].restartLimit: only a service with restart: \"on-failure\" restarts",
        ),
    ];
    for (i, (from, to, expected)) in cases.iter().enumerate() {
        let text = error_text(&format!("bad-{i}"), &GOOD.replace(from, to));
        assert!(text.ends_with(expected), "case {i}: {text}");
    }
}

#[test]
fn init_is_not_supervised_and_keeps_the_time() {
    let text = error_text(
        "init-after",
        &GOOD.replace(r#"{name: "init", binary: "init","#, r#"{name: "init", binary: "init", deadlineMs: 5,"#),
    );
    assert!(text.ends_with("initConfig.services[0]: init cannot have after, mustSucceed, restart or deadlineMs (the kernel starts it, nothing supervises it)"), "{text}");
    let text = error_text("no-timer", &GOOD.replace(r#", timer: kernel: "timer""#, ""));
    assert!(text.ends_with("initConfig.services[1].deadlineMs: init keeps deadlines and backoffs with its timer, but init has no timer grant"), "{text}");
}

#[test]
fn a_quota_is_packed_in_bytes_and_caps() {
    let with = GOOD
        .replace(r#"{name: "c", binary: "init","#, r#"{name: "c", binary: "init", quota: {memoryMiB: 24, caps: 64},"#);
    let opts = options("quota-good", &with);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    let c = m.service("c").unwrap().supervision.quota;
    assert_eq!((c.memory_mib, c.caps, c.memory_bytes()), (Some(24), Some(64), 24 << 20));
    let a = m.service("a").unwrap().supervision.quota;
    assert_eq!((a.memory_mib, a.caps, a.memory_bytes()), (None, None, 0), "no quota: init's account, a whole table");
}

#[test]
fn bad_quotas_name_the_field_and_the_reason() {
    let cases = [
        ("{memoryMiB: 0}", "initConfig.services[3].quota.memoryMiB: a quota of 0 could hold nothing (leave the field out for the default)"),
        ("{caps: 0}", "initConfig.services[3].quota.caps: a quota of 0 could hold nothing (leave the field out for the default)"),
        ("{memoryMiB: -1}", "initConfig.services[3].quota.memoryMiB: expected a whole number of MiB"),
        ("{memoryMiB: 1.5}", "initConfig.services[3].quota.memoryMiB: expected a whole number of MiB"),
        ("{caps: \"64\"}", "initConfig.services[3].quota.caps: expected a whole number of caps"),
        ("{memoryMiB: 4294967296}", "initConfig.services[3].quota.memoryMiB: expected a whole number of MiB"),
        ("{cpu: 2}", "initConfig.services[3].quota.cpu: a quota has only memoryMiB, caps and kernelKiB"),
        ("24", "initConfig.services[3].quota: expected a struct with memoryMiB, caps and kernelKiB"),
        ("{memoryMiB: 4097}", "initConfig.services[3].quota.memoryMiB: a memoryMiB quota of 4097 is over the limit of 4096"),
        ("{caps: 1025}", "initConfig.services[3].quota.caps: a caps quota of 1025 is over the limit of 1024"),
    ];
    for (i, (quota, expected)) in cases.iter().enumerate() {
        let with =
            GOOD.replace(r#"{name: "c", binary: "init","#, &format!(r#"{{name: "c", binary: "init", quota: {quota},"#));
        let text = error_text(&format!("quota-{i}"), &with);
        assert!(text.ends_with(expected), "case {i}: {text}");
    }
}
