//! An empty `memfd` for capos-wasm (appendix A.8).
//!
//! wasmtime 48's `runtime` feature lists `memfd` as a dependency on every Linux target, for its
//! unix platform (which also needs `std`). capOS programs are built for x86_64-unknown-linux-gnu,
//! so cargo would build the real `memfd`, and through it `rustix` with `std`, which turns on
//! `bitflags/std` for the whole crate graph and links `std` into a `no_std` binary. wasmtime's
//! no_std "custom" platform never names `memfd`, so an empty crate satisfies the dependency: if
//! wasmtime ever used it here, the build would fail to compile rather than run without it.
#![no_std]
