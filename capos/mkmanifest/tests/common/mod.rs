//! What the end-to-end tests share: the pinned cue and a fresh scratch tree per case.
use mkmanifest::{run, Options};
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (mkmanifest sits at capos/mkmanifest).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The pinned cue: $CUE, or build/tools/cue under the repository root.
pub fn cue() -> PathBuf {
    let path = std::env::var_os("CUE").map_or_else(|| repo().join("build/tools/cue"), PathBuf::from);
    assert!(path.is_file(), "cue not found at {} (install it as the README says, or set CUE)", path.display());
    path
}

/// An empty repo-like tree for one case (build/ and manifests/cue.mod/), left over from no earlier run.
pub fn scratch(group: &str, case: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(group).join(case);
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("build")).unwrap();
    fs::create_dir_all(root.join("manifests/cue.mod")).unwrap();
    root
}

/// A scratch tree holding one ELF-looking `build/init` and `manifests/system-test.cue` with `manifest` as the
/// body of package capos; the Options that compile it.
#[allow(dead_code)] // wasm_host.rs builds its own tree around the real defaults package
pub fn small_module(group: &str, case: &str, manifest: &str) -> Options {
    let root = scratch(group, case);
    fs::write(root.join("build/init"), b"\x7fELF\x02\x01\x01\0 not really").unwrap();
    fs::write(root.join("manifests/cue.mod/module.cue"), "module: \"capos.local\"\nlanguage: version: \"v0.17.0\"\n")
        .unwrap();
    let file = root.join("manifests/system-test.cue");
    fs::write(&file, format!("package capos\n\n{manifest}\n")).unwrap();
    Options { input: file, output: root.join("out/manifest.bin"), root, cue: Some(cue()) }
}

/// Runs mkmanifest expecting a refusal: the error's text, after checking that nothing was written.
pub fn refused(opts: &Options) -> String {
    let err = run(opts).unwrap_err();
    assert!(!opts.output.exists(), "no manifest after an error");
    err.to_string()
}
