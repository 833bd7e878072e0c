//! The wasm-host shape end to end: the real cue, the repository's shared defaults (tangled from the
//! manifests appendix and chapter W.3), mkmanifest's lowering and validation, the written manifest.
use capos_schema::manifest::{self, GrantSource};
use capos_schema::wire::AlignedBuf;
use mkmanifest::{run, Error, Options};
use std::fs;

mod common;
use common::{cue, refused, repo, scratch};

/// A repo-like tree with the real defaults package, a fake capos-wasm and a blob.
fn tree(case: &str, services: &str) -> Options {
    let root = scratch("wasm-host", case);
    fs::create_dir_all(root.join("manifests/cue/defaults")).unwrap();
    for entry in fs::read_dir(repo().join("manifests/cue/defaults")).expect("run `npm run tangle` first") {
        let path = entry.unwrap().path();
        fs::copy(&path, root.join("manifests/cue/defaults").join(path.file_name().unwrap())).unwrap();
    }
    fs::copy(repo().join("manifests/cue.mod/module.cue"), root.join("manifests/cue.mod/module.cue")).unwrap();
    fs::write(root.join("build/init"), b"\x7fELF not really").unwrap();
    fs::write(root.join("build/capos-wasm"), b"\x7fELF not really").unwrap();
    fs::write(root.join("build/echo.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let file = root.join("manifests/system-test.cue");
    let text = format!(
        r#"package capos

import (
	"strings"
	"capos.local/cue/defaults"
)

_long: strings.Repeat("x", 4090) // "beta\0" + 4090 + NUL = 4096

defaults.#System & {{
	binaries: {{
		init: {{path: "build/init"}}
		"capos-wasm": {{path: "build/capos-wasm"}}
		echo: {{kind: "blob", path: "build/echo.wasm"}}
	}}
	initConfig: services: [
		defaults.#Init,
		{services}
	]
}}
"#
    );
    fs::write(&file, text).unwrap();
    Options { input: file, output: root.join("out/manifest.bin"), root, cue: Some(cue()) }
}

const GOOD: &str = r#"defaults.#WasmHost & {name: "wasm-host", wasm: instances: [
			{name: "alpha", binary: "echo", args: ["say \"hi\"", ""], env: {K: "v"}, caps: console: true},
			{name: "beta", binary: "echo", args: [_long], caps: {console: true, random: true}},
		]},"#;

fn error_text(case: &str, services: &str) -> String {
    refused(&tree(case, services))
}

#[test]
fn a_wasm_host_is_lowered_to_its_grants() {
    let opts = tree("good", GOOD);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    let host = m.service("wasm-host").unwrap();
    assert_eq!(host.binary, "capos-wasm");
    let names: Vec<_> = host.grants.iter().map(|g| g.name).collect();
    assert_eq!(
        names,
        [
            "console",
            "entropy",
            "wasm.instances",
            "wasm.0.module",
            "wasm.0.args",
            "wasm.0.env",
            "wasm.1.module",
            "wasm.1.args"
        ]
    );
    assert_eq!(
        host.grants[2].source,
        GrantSource::Text("capos-wasm instances 1\nalpha console\nbeta console random\n")
    );
    assert_eq!(host.grants[4].source, GrantSource::Text("alpha\0say \"hi\"\0\0"));
    let GrantSource::Text(big) = host.grants[7].source else { panic!("args are text") };
    assert_eq!(big.len(), 4096, "the maximum argv is accepted");
}

#[test]
fn an_unknown_cap_is_named_with_the_known_ones() {
    let text = error_text("unknown-cap", &GOOD.replace("caps: console: true", "caps: network: true"));
    assert!(
        text.ends_with("system-test.cue: initConfig.services[1].wasm.instances[0].caps.network: unknown field (allowed: console, timer, random, wallclock, preopens)"),
        "{text}"
    );
}

#[test]
fn an_unknown_blob_is_named() {
    let text =
        error_text("unknown-blob", &GOOD.replace(r#"name: "beta", binary: "echo""#, r#"name: "beta", binary: "nope""#));
    assert!(
        text.ends_with(
            "system-test.cue: initConfig.services[1].wasm.instances[1].binary: no blob named \"nope\" in binaries"
        ),
        "{text}"
    );
}

#[test]
fn a_duplicate_instance_name_is_refused() {
    let text = error_text("duplicate", &GOOD.replace(r#"name: "beta""#, r#"name: "alpha""#));
    assert!(
        text.ends_with("system-test.cue: initConfig.services[1].wasm.instances[1].name: instance name \"alpha\" is used twice (first at instances[0])"),
        "{text}"
    );
}

#[test]
fn args_over_the_bound_are_refused() {
    let text = error_text("args-over", &GOOD.replace("args: [_long]", "args: [_long + \"x\"]"));
    assert!(
        text.ends_with("system-test.cue: initConfig.services[1].wasm.instances[1].args: argv is 4097 bytes with its NUL terminators, the limit is 4096"),
        "{text}"
    );
}

#[test]
fn a_misspelt_instance_field_is_a_cue_error() {
    let opts = tree("misspelt", &GOOD.replace(r#"name: "beta", binary"#, r#"name: "beta", binray"#));
    match run(&opts).unwrap_err() {
        Error::CueFailed { message, .. } => assert!(message.contains("binray"), "{message}"),
        other => panic!("expected cue to refuse the shape, got {other}"),
    }
}
