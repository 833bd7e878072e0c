//! End-to-end: real `cue export` on small CUE modules written to a temp dir, then mkmanifest's
//! validation and the written manifest.bin. Needs the pinned cue (build/tools/cue from the repo
//! root, or $CUE).
use capos_schema::manifest::{self, GrantSource};
use capos_schema::wire::AlignedBuf;
use mkmanifest::{run, Error, Options};
use std::fs;
use std::path::PathBuf;

mod common;
use common::{cue, refused, scratch};

/// A repo-like tree: build/ with an ELF-looking file and a text blob, manifests/ with a CUE module.
fn tree(case: &str, manifest: &str) -> (PathBuf, Options) {
    let root = scratch("mkmanifest", case);
    fs::write(root.join("build/init"), b"\x7fELF\x02\x01\x01\0 not really").unwrap();
    fs::write(root.join("build/words.txt"), b"some words").unwrap();
    fs::write(root.join("manifests/cue.mod/module.cue"), "module: \"capos.local\"\nlanguage: version: \"v0.17.0\"\n")
        .unwrap();
    let file = root.join("manifests/system-test.cue");
    fs::write(&file, format!("package capos\n\n{manifest}\n")).unwrap();
    let opts = Options { input: file, output: root.join("out/manifest.bin"), root: root.clone(), cue: Some(cue()) };
    (root, opts)
}

const GOOD: &str = r#"
schemaVersion: 1
binaries: {
	init: {path: "build/init", kind: "elf"}
	words: {path: "build/words.txt", kind: "blob"}
}
initConfig: services: [
	{name: "init", binary: "init", grants: {console: kernel: "console"}},
	{name: "child", binary: "init", grants: {
		data: blob: "words"
		args: text: "--flag"
		clock: kernel: "timer"
	}},
]
kernelParams: {}
"#;

fn error_text(case: &str, manifest: &str) -> String {
    refused(&tree(case, manifest).1)
}

#[test]
fn good_manifest_is_packed_and_decodes() {
    let (_root, opts) = tree("good", GOOD);
    let summary = run(&opts).unwrap();
    assert_eq!((summary.binaries, summary.services), (2, 2));
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    assert_eq!(m.binary("words").unwrap().data, b"some words");
    let child = m.service("child").unwrap();
    let names: Vec<_> = child.grants.iter().map(|g| g.name).collect();
    assert_eq!(names, ["data", "args", "clock"], "grant order follows the CUE file");
    assert_eq!(child.grants[1].source, GrantSource::Text("--flag"));
}

#[test]
fn extra_root_field_is_named_with_the_allowed_ones() {
    let text = error_text("extra-root", &format!("{GOOD}\nnetwork: true"));
    assert!(text.ends_with("system-test.cue: network: unknown field (allowed: schemaVersion, binaries, initConfig, kernelParams, devices)"), "{text}");
}

#[test]
fn unknown_blob_kernel_cap_and_long_text_name_the_field() {
    let text = error_text("unknown-blob", &GOOD.replace(r#"blob: "words""#, r#"blob: "nope""#));
    assert!(text.ends_with("system-test.cue: initConfig.services[1].grants.data.blob: no binary named \"nope\" in binaries for this blob grant"), "{text}");
    let text = error_text("unknown-cap", &GOOD.replace(r#"kernel: "timer""#, r#"kernel: "network""#));
    assert!(text.contains("initConfig.services[1].grants.clock.kernel: unknown kernel cap \"network\""), "{text}");
    let long = "x".repeat(4097);
    let text = error_text("long-text", &GOOD.replace("--flag", &long));
    assert!(text.ends_with("initConfig.services[1].grants.args.text: text is 4097 bytes, the limit is 4096"), "{text}");
}

#[test]
fn missing_binary_file_and_missing_init() {
    let text = error_text("missing-file", &GOOD.replace("build/words.txt", "build/gone.txt"));
    assert!(text.contains("system-test.cue: binaries.words.path: cannot read "), "{text}");
    assert!(text.contains("gone.txt"), "{text}");
    let text = error_text("no-init", &GOOD.replace(r#"name: "init", binary"#, r#"name: "boot", binary"#));
    assert!(text.ends_with("initConfig.services: no service named \"init\" (init is mandatory)"), "{text}");
}

#[test]
fn cue_errors_are_passed_through_with_the_file() {
    let (_root, opts) = tree("syntax", "schemaVersion: 1 +");
    match run(&opts).unwrap_err() {
        Error::CueFailed { file, message } => {
            assert_eq!(file, opts.input);
            assert!(!message.is_empty());
        }
        other => panic!("expected a cue failure, got {other}"),
    }
}

#[test]
fn a_failed_run_keeps_the_previous_output() {
    let (_root, opts) = tree("keep-old", GOOD);
    run(&opts).unwrap();
    let before = fs::read(&opts.output).unwrap();
    fs::write(&opts.input, format!("package capos\n{}", GOOD.replace("build/init", "build/none"))).unwrap();
    assert!(run(&opts).is_err());
    assert_eq!(fs::read(&opts.output).unwrap(), before);
}
