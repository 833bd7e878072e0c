//! Links with the shared user linker script published by capos-rt.
fn main() {
    let script = std::env::var("DEP_CAPOS_RT_LINK_LD").expect("capos-rt publishes its linker script");
    println!("cargo:rustc-link-arg-bins=-T{script}");
}
