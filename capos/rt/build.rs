//! Publishes the absolute path of the shared user linker script to dependents: a binary's build
//! script reads `DEP_CAPOS_RT_LINK_LD` and passes `-T<path>` to its link.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=link.ld");
    println!("cargo:link_ld={dir}/link.ld");
}
