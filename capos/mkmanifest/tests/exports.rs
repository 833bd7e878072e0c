//! Exports and imports end to end: real `cue export` on a small module, then mkmanifest's checks
//! of the endpoint graph (capos_schema::manifest) with the CUE file and field path in the message.
//! Needs the pinned cue (build/tools/cue from the repo root, or $CUE).
use capos_schema::manifest::{self, GrantSource};
use capos_schema::wire::AlignedBuf;
use mkmanifest::{run, Options};
use std::fs;

mod common;
use common::{refused, small_module};

const GOOD: &str = r#"
schemaVersion: 1
binaries: init: {path: "build/init", kind: "elf"}
initConfig: services: [
	{name: "init", binary: "init", grants: console: kernel: "console"},
	{name: "server", binary: "init", grants: {
		console: kernel: "console"
		serve: export:   "echo"
	}},
	{name: "client", binary: "init", grants: {
		console: kernel: "console"
		echo: import:    "server.echo"
	}},
]
"#;

fn error_text(case: &str, manifest: &str) -> String {
    refused(&options(case, manifest))
}

fn options(case: &str, manifest: &str) -> Options {
    small_module("mkmanifest-exports", case, manifest)
}

#[test]
fn export_and_import_are_packed_in_grant_order() {
    let opts = options("good", GOOD);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    assert_eq!(m.service("server").unwrap().grants[1].source, GrantSource::Export("echo"));
    assert_eq!(m.service("client").unwrap().grants[1].source, GrantSource::Import("server.echo"));
    assert_eq!(m.exports().collect::<Vec<_>>(), [("server", "echo")]);
}

#[test]
fn an_import_naming_no_export_names_the_file_and_field() {
    let text = error_text("no-export", &GOOD.replace(r#""server.echo""#, r#""server.ping""#));
    assert!(
        text.ends_with(
            "system-test.cue: initConfig.services[2].grants.echo.import: import \"server.ping\" names no export (service \"server\" has no export grant of that name)"
        ),
        "{text}"
    );
    let text = error_text("no-service", &GOOD.replace(r#""server.echo""#, r#""sever.echo""#));
    assert!(
        text.ends_with("initConfig.services[2].grants.echo.import: import \"sever.echo\" names no service (there is no service \"sever\")"),
        "{text}"
    );
    let text = error_text("no-dot", &GOOD.replace(r#""server.echo""#, r#""echo""#));
    assert!(text.ends_with("grants.echo.import: import \"echo\" is not of the form <service>.<export>"), "{text}");
}

#[test]
fn a_duplicate_export_and_an_exporting_init_are_refused() {
    let twice = GOOD.replace(r#"serve: export:   "echo""#, "serve: export: \"echo\"\n\t\tagain: export: \"echo\"");
    let text = error_text("duplicate", &twice);
    assert!(
        text.ends_with(
            "system-test.cue: initConfig.services[1].grants.again.export: this service already exports \"echo\""
        ),
        "{text}"
    );
    let init = GOOD.replace(
        r#"grants: console: kernel: "console"},"#,
        r#"grants: {console: kernel: "console", e: export: "x"}},"#,
    );
    let text = error_text("init-exports", &init);
    assert!(text.ends_with("initConfig.services[0].grants.e: init cannot export or import (the kernel starts init and makes no endpoints)"), "{text}");
}

#[test]
fn a_grant_with_two_sources_is_refused() {
    let two = GOOD.replace(r#"echo: import:    "server.echo""#, r#"echo: {import: "server.echo", export: "echo"}"#);
    let text = error_text("two-sources", &two);
    assert!(
        text.ends_with(
            "initConfig.services[2].grants.echo: expected exactly one of kernel, blob, text, export, import or device"
        ),
        "{text}"
    );
}

/// Device grants (appendix A.6): one listed device per grant, never the whole table.
#[test]
fn device_grants_name_listed_devices_with_file_and_field() {
    let devices = GOOD.replace("initConfig:", "devices: blk0: pci: {vendor: 0x1af4, class: \"block\"}\ninitConfig:");
    let good = devices.replace(r#"serve: export:   "echo""#, "serve: export:   \"echo\"\n\t\tdisk: device: \"blk0\"");
    let opts = options("device-good", &good);
    run(&opts).unwrap();
    let bytes = AlignedBuf::copy_from(&fs::read(&opts.output).unwrap());
    let message = manifest::read(&bytes).unwrap();
    let m = manifest::decode(&message).unwrap();
    assert_eq!(m.service("server").unwrap().grants[2].source, GrantSource::Device("blk0"));
    let text = error_text("device-unknown", &good.replace(r#"device: "blk0""#, r#"device: "blk1""#));
    assert!(
        text.ends_with("system-test.cue: initConfig.services[1].grants.disk.device: no device named \"blk1\" in the manifest's devices"),
        "{text}"
    );
    let text = error_text("device-whole", &good.replace(r#"device: "blk0""#, r#"kernel: "devices""#));
    assert!(
        text.ends_with(
            "system-test.cue: initConfig.services[1].grants.disk.kernel: the whole device table stays with init: grant one device with device: \"<name>\""
        ),
        "{text}"
    );
}
