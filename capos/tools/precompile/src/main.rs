//! capos-precompile: turns a `.wasm` into a `.cwasm` for wasmtime inside capOS (appendix A.8).
//!
//! `capos-precompile [--pulley] [--component] IN.wasm OUT.cwasm` compiles IN with Cranelift, to
//! native x86-64 code for the CPU the smokes boot or, with `--pulley`, to wasmtime's Pulley
//! bytecode, and writes OUT: one header line binding the artifact to IN's SHA-256, to the wasmtime
//! version and to its code kind, then wasmtime's own serialized module (or, with `--component`,
//! component: chapter W.7). `capos-precompile --version` prints that version.
//!
//! The engine settings here and in capos-wasm's wasmtime binding must be the same (wasmtime
//! compares them when it loads the artifact and refuses a mismatch); they are listed together in
//! the appendix.
use sha2::{Digest, Sha256};
use std::process::ExitCode;
use wasmtime::{Config, Engine, OptLevel};

// region: settings
/// The wasmtime version this tool links; capos-wasm pins the same one.
const WASMTIME_VERSION: &str = "48.0.8";
/// The header's first word and format version.
const MAGIC: &str = "capos-cwasm 2";
/// x86 features Cranelift may assume. QEMU's `qemu64` model (the smokes boot `qemu64,+rdrand`)
/// has SSE2 and SSE3 but no SSSE3, SSE4, POPCNT, LZCNT, BMI or AVX, and the no_std runtime cannot
/// ask the CPU, so every one of these is off and Cranelift uses baseline SSE2 code.
const X86_FLAGS_OFF: &[&str] = &[
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
    "has_lzcnt",
    "has_bmi1",
    "has_bmi2",
    "has_avx",
    "has_avx2",
    "has_fma",
    "has_cmpxchg16b",
];

/// Address space one linear memory reserves: capos-wasm's `MEMORY_RESERVATION`, the same number.
const MEMORY_RESERVATION: u64 = 128 * 1024 * 1024;

/// What the artifact holds: native x86-64 code, or Pulley bytecode for wasmtime's interpreter.
#[derive(Clone, Copy)]
enum Code {
    Native,
    Pulley,
}

impl Code {
    fn name(self) -> &'static str {
        match self {
            Code::Native => "native",
            Code::Pulley => "pulley",
        }
    }
}

fn config(code: Code) -> wasmtime::Result<Config> {
    let mut c = Config::new();
    match code {
        Code::Native => native_target(&mut c)?,
        // Pulley is a 64-bit little-endian bytecode; the runtime that runs it names the same
        // target, and no CPU feature applies.
        Code::Pulley => {
            c.target("pulley64")?;
        }
    }
    c.cranelift_opt_level(OptLevel::Speed);
    // No signal handlers on capOS: bounds, division and stack checks are explicit code.
    c.signals_based_traps(false);
    // No guard regions. Each linear memory reserves 128 MiB of address space (the largest memory an
    // instance may have, W.8's ceiling of 2048 pages) through the platform's mmap hooks over the
    // VirtualMemory cap; growing commits pages in place. A reservation costs no frames.
    c.memory_reservation(MEMORY_RESERVATION);
    c.memory_guard_size(0);
    c.memory_reservation_for_growth(0);
    c.memory_init_cow(false);
    // Every instance has a fuel budget (appendix A.5), so the code counts fuel.
    c.consume_fuel(true);
    // The deadline (appendix A.5): the code checks an epoch that the kernel's alarm advances.
    c.epoch_interruption(true);
    Ok(c)
}

fn native_target(c: &mut Config) -> wasmtime::Result<()> {
    // capOS programs are built for x86_64-unknown-linux-gnu (no_std, static, their own start):
    // that is the runtime's host triple, which wasmtime compares with the artifact's. Nothing in
    // the code depends on Linux: the calling convention is System V and the code calls no system.
    c.target("x86_64-unknown-linux-gnu")?;
    for flag in X86_FLAGS_OFF {
        // SAFETY: turning CPU features off only makes Cranelift emit fewer kinds of instructions;
        // the artifact runs on any x86-64 CPU.
        unsafe {
            c.cranelift_flag_set(flag, "false");
        }
    }
    Ok(())
}
// endregion: settings

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn run(code: Code, component: bool, input: &str, output: &str) -> Result<(), String> {
    let wasm = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let mut settings = config(code).map_err(|e| format!("engine settings: {e}"))?;
    settings.wasm_component_model(component);
    let engine = Engine::new(&settings).map_err(|e| format!("engine settings: {e}"))?;
    let compiled = if component { engine.precompile_component(&wasm) } else { engine.precompile_module(&wasm) };
    let compiled = compiled.map_err(|e| format!("{input}: {e}"))?;
    let sha = hex(&Sha256::digest(&wasm));
    let kind = code.name();
    let mut out = format!("{MAGIC} wasmtime={WASMTIME_VERSION} code={kind} wasm-sha256={sha}\n").into_bytes();
    out.extend_from_slice(&compiled);
    std::fs::write(output, out).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--version" => {
            println!("wasmtime {WASMTIME_VERSION}");
            ExitCode::SUCCESS
        }
        [flags @ .., input, output] if flags.iter().all(|f| f == "--pulley" || f == "--component") => {
            let code = if flags.iter().any(|f| f == "--pulley") { Code::Pulley } else { Code::Native };
            finish(run(code, flags.iter().any(|f| f == "--component"), input, output))
        }
        _ => {
            eprintln!("usage: capos-precompile [--pulley] [--component] IN.wasm OUT.cwasm | --version");
            ExitCode::from(2)
        }
    }
}

fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("capos-precompile: {why}");
            ExitCode::FAILURE
        }
    }
}
