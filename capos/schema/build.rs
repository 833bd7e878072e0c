//! Compiles capos.capnp to Rust at build time. Needs the `capnp` compiler on PATH (Debian's
//! `capnproto` package); capnpc is the Rust code generator plugin it feeds.
//!
//! The generated interface code names `Box` and `to_string` unqualified, which only resolve with
//! std's prelude. This crate is no_std, so after generation every generated module gets an
//! import of those two names from `alloc`. Nothing else in the generated code is touched.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=capos.capnp");
    println!("cargo:rerun-if-changed=build.rs");
    capnpc::CompilerCommand::new()
        .file("capos.capnp")
        .run()
        .expect("compiling capos.capnp (is Debian's `capnp` installed?)");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("capos_capnp.rs");
    let generated = fs::read_to_string(&out).expect("reading generated capos_capnp.rs");
    fs::write(&out, add_alloc_imports(&generated)).expect("writing capos_capnp.rs");
}

/// Adds `use ::alloc::{boxed::Box, string::ToString};` at the top of the file and of every module,
/// after the module's inner attributes (which must come first).
fn add_alloc_imports(source: &str) -> String {
    const IMPORT: &str = "#[allow(unused_imports)] use ::alloc::{boxed::Box, string::ToString};";
    let mut patched = String::with_capacity(source.len() + 64 * 1024);
    let mut pending = true;
    for line in source.lines() {
        let trimmed = line.trim_start();
        let is_comment_or_inner = trimmed.starts_with("#![") || trimmed.starts_with("//") || trimmed.is_empty();
        if pending && !is_comment_or_inner {
            patched.push_str(IMPORT);
            patched.push('\n');
            pending = false;
        }
        patched.push_str(line);
        patched.push('\n');
        if trimmed.starts_with("pub mod ") && trimmed.ends_with('{') {
            pending = true;
        }
    }
    patched
}
