//! The wasm-host shape (chapter W.3): a service's `wasm.instances` lowered to the grants
//! capos-wasm reads: console/timer/entropy as the instances need them, the instance table
//! `wasm.instances`, and per instance `wasm.<i>.module` (blob), `wasm.<i>.args` and, when
//! not empty, `wasm.<i>.env` (text, every string followed by a NUL). Chapter W.8 adds the
//! `wallclock` cap, `wasm.<i>.stdin` (a blob or a text) and per-instance limits, written as
//! `key=value` words on the instance's table line. Chapter W.5 on capOS adds preopens: each
//! distinct store an instance names becomes an import grant `wasm.store.<j>`, and an instance's
//! preopens the text grant `wasm.<i>.preopens`, one line per directory.
//!
//! capos-wasm's `src/table.rs` (tangled from the same chapter) parses what this writes; the
//! two sides are tested against the format written out in the chapter.
use crate::error::Problem;
use crate::json::{fail, join, object, required, string, BinarySource, FieldError, GrantFrom, GrantSource};
use capos_schema::ids::KernelCap;
use capos_schema::manifest::BinaryKind;
use serde_json::Value;

// region: rules
/// The grant holding the instance table, and the table's first line (format version 1).
pub const TABLE_GRANT: &str = "wasm.instances";
pub const TABLE_HEADER: &str = "capos-wasm instances 1";
/// 16 instances × 3 grants + console, timer, entropy and the table fit a 63-entry CapSet.
pub const INSTANCES_MAX: usize = 16;
/// Instance names: 1 to 32 bytes of [A-Za-z0-9._-], so the table needs no quoting.
pub const NAME_MAX: usize = 32;
/// argv (name included) and environ, each string plus its NUL: the text grant limit.
pub const LIST_MAX: usize = capos_abi::GRANT_TEXT_MAX;

const WASM_FIELDS: &[&str] = &["instances"];
const INSTANCE_FIELDS: &[&str] =
    &["name", "binary", "args", "env", "caps", "stdin", "limits", "bench", "engine", "cwasm"];
/// The caps an instance may name.
pub const CAPS: &[&str] = &["console", "timer", "random", "wallclock", "preopens"];
/// The bool caps, in table order (W.8 adds the wall clock).
const BOOL_CAPS: [&str; 4] = ["console", "timer", "random", "wallclock"];
const STDIN_FIELDS: &[&str] = &["blob", "text"];
const LIMIT_FIELDS: &[&str] = &["moduleBytes", "memoryPages", "tableElements"];
/// Ceilings of the per-instance limits (W.8), the same numbers capos-wasm's heap is sized for
/// (`capos-wasm/src/limits.rs`): 48 MiB of module, 2048 pages (128 MiB) of memory, 65,536 table
/// elements. The defaults (16 MiB, 256 pages, 10,000) apply when a limit is not named.
pub const LIMIT_CEILINGS: [u64; 3] = [48 * 1024 * 1024, 2048, 65_536];
/// W.5: the fields of one preopen, and how many one instance may have.
const PREOPEN_FIELDS: &[&str] = &["store", "path", "readOnly"];
pub const PREOPENS_MAX: usize = 8;
/// Longest guest path of a preopen, and longest name in a store path (the store's own limit).
pub const PREOPEN_NAME_MAX: usize = 255;
/// Most grants a CapSet page holds.
pub const GRANTS_MAX: usize = 63;

/// Checks one instance at `path` and returns its table line and its argv and environ lists.
fn instance(path: &str, v: &Value, binaries: &[BinarySource], earlier: &[Lowered]) -> Result<Lowered, FieldError> {
    let fields = object(path, v, INSTANCE_FIELDS)?;
    let name_path = join(path, "name");
    let name = string(&name_path, required(fields, path, "name")?)?;
    if !valid_name(&name) {
        return fail(name_path, rule(format!("instance name must be 1 to {NAME_MAX} bytes of [A-Za-z0-9._-]")));
    }
    if let Some(first) = earlier.iter().position(|l| l.name == name) {
        return fail(name_path, rule(format!("instance name \"{name}\" is used twice (first at instances[{first}])")));
    }
    let binary_path = join(path, "binary");
    let binary = string(&binary_path, required(fields, path, "binary")?)?;
    match binaries.iter().find(|b| b.name == binary) {
        None => return fail(binary_path, rule(format!("no blob named \"{binary}\" in binaries"))),
        Some(b) if b.kind != BinaryKind::Blob => {
            return fail(
                binary_path,
                rule(format!("binary \"{binary}\" is an elf; an instance runs a blob (a .wasm module)")),
            )
        }
        Some(_) => {}
    }
    let args_path = join(path, "args");
    let mut argv = vec![name.clone()];
    if let Some(args) = fields.get("args") {
        let list = args.as_array().ok_or(FieldError {
            path: args_path.clone(),
            problem: Problem::WrongType { expected: "a list of strings" },
        })?;
        for (i, arg) in list.iter().enumerate() {
            argv.push(string(&format!("{args_path}[{i}]"), arg)?);
        }
    }
    if let Some(i) = argv.iter().position(|a| a.contains('\0')) {
        return fail(
            format!("{args_path}[{}]", i - 1),
            rule("an argument cannot contain NUL (C's argv cannot carry it)".into()),
        );
    }
    let args = nul_list(&argv);
    if args.len() > LIST_MAX {
        return fail(
            args_path,
            rule(format!("argv is {} bytes with its NUL terminators, the limit is {LIST_MAX}", args.len())),
        );
    }
    let env = environ(&join(path, "env"), fields.get("env"))?;
    let (caps, preopens) = caps(&join(path, "caps"), fields.get("caps"))?;
    let stdin = stdin(&join(path, "stdin"), fields.get("stdin"), binaries)?;
    let limits = limits(&join(path, "limits"), fields.get("limits"))?;
    let bench = match fields.get("bench") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return fail(join(path, "bench"), Problem::WrongType { expected: "a bool" }),
    };
    let cwasm = engine(path, fields, binaries)?;
    Ok(Lowered { name, binary, args, env, caps, stdin, limits, bench, preopens, cwasm })
}

/// `KEY=VALUE` strings; keys non-empty without `=`, nothing with NUL, at most `LIST_MAX` bytes.
fn environ(path: &str, v: Option<&Value>) -> Result<String, FieldError> {
    let Some(v) = v else { return Ok(String::new()) };
    let map = v
        .as_object()
        .ok_or(FieldError { path: path.into(), problem: Problem::WrongType { expected: "a struct of strings" } })?;
    let mut entries = Vec::new();
    for (key, value) in map {
        let value = string(&join(path, key), value)?;
        if key.is_empty() || key.contains('=') || key.contains('\0') || value.contains('\0') {
            return fail(
                join(path, key),
                rule("a variable's name must be non-empty without = or NUL, its value without NUL".into()),
            );
        }
        entries.push(format!("{key}={value}"));
    }
    let env = nul_list(&entries);
    if env.len() > LIST_MAX {
        return fail(
            path,
            rule(format!("the environment is {} bytes with its NUL terminators, the limit is {LIST_MAX}", env.len())),
        );
    }
    Ok(env)
}

/// console, timer, random and wallclock as bools, and the preopens (W.5).
fn caps(path: &str, v: Option<&Value>) -> Result<([bool; 4], Vec<Preopen>), FieldError> {
    let Some(v) = v else { return Ok(([false; 4], Vec::new())) };
    let fields = object(path, v, CAPS)?;
    let mut granted = [false; 4];
    for (slot, cap) in granted.iter_mut().zip(BOOL_CAPS) {
        *slot = match fields.get(cap) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return fail(join(path, cap), Problem::WrongType { expected: "a bool" }),
        };
    }
    let preopens = match fields.get("preopens") {
        None => Vec::new(),
        Some(v) => preopens(&join(path, "preopens"), v)?,
    };
    Ok((granted, preopens))
}

/// One preopened directory: the guest's name for it, a Namespace of a store export, read-only or not.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Preopen {
    guest: String,
    /// `<service>.<export>` of a store.
    store: String,
    /// The subtree inside the store, "" for its root.
    subtree: String,
    read_only: bool,
}

/// `{"/guest": {store: "svc.export", path?: "a/b", readOnly?: bool}, …}`, in the order written.
fn preopens(path: &str, v: &Value) -> Result<Vec<Preopen>, FieldError> {
    let map = v.as_object().ok_or(FieldError {
        path: path.into(),
        problem: Problem::WrongType { expected: "a struct of preopens keyed by the guest's path" },
    })?;
    if map.len() > PREOPENS_MAX {
        return fail(path, rule(format!("an instance has at most {PREOPENS_MAX} preopens, not {}", map.len())));
    }
    let mut out = Vec::new();
    for (guest, entry) in map {
        let entry_path = join(path, guest);
        if guest.is_empty()
            || guest.len() > PREOPEN_NAME_MAX
            || guest.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return fail(
                entry_path,
                rule(format!(
                    "a preopen's guest path is 1 to {PREOPEN_NAME_MAX} bytes without spaces or control characters"
                )),
            );
        }
        let fields = object(&entry_path, entry, PREOPEN_FIELDS)?;
        let store_path = join(&entry_path, "store");
        let store = string(&store_path, required(fields, &entry_path, "store")?)?;
        match store.split_once('.') {
            Some((service, export))
                if !service.is_empty() && !export.is_empty() && !store.contains(char::is_whitespace) => {}
            _ => {
                return fail(store_path, rule(format!("\"{store}\" is not <service>.<export> naming a store's export")))
            }
        }
        let subtree = match fields.get("path") {
            None => String::new(),
            Some(v) => string(&join(&entry_path, "path"), v)?,
        };
        if !valid_subtree(&subtree) {
            return fail(join(&entry_path, "path"), rule(format!(
                "a store path is relative: names of 1 to {PREOPEN_NAME_MAX} bytes joined by /, without ., .., spaces or control characters"
            )));
        }
        let read_only = match fields.get("readOnly") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return fail(join(&entry_path, "readOnly"), Problem::WrongType { expected: "a bool" }),
        };
        out.push(Preopen { guest: guest.clone(), store, subtree, read_only });
    }
    Ok(out)
}

/// "" (the store's root) or names the store accepts, none of which the preopens line would split.
fn valid_subtree(subtree: &str) -> bool {
    subtree.is_empty()
        || subtree.split('/').all(|name| {
            !name.is_empty()
                && name != "."
                && name != ".."
                && name.len() <= PREOPEN_NAME_MAX
                && !name.chars().any(|c| c.is_whitespace() || c.is_control())
        })
}
// endregion: rules

// region: w8
/// `{blob: name}` (a blob of `binaries`) or `{text: "…"}` (at most a text grant), served as fd 0.
fn stdin(path: &str, v: Option<&Value>, binaries: &[BinarySource]) -> Result<Option<GrantFrom>, FieldError> {
    let Some(v) = v else { return Ok(None) };
    let fields = object(path, v, STDIN_FIELDS)?;
    match (fields.get("blob"), fields.get("text")) {
        (Some(blob), None) => {
            let blob_path = join(path, "blob");
            let name = string(&blob_path, blob)?;
            match binaries.iter().find(|b| b.name == name) {
                Some(b) if b.kind == BinaryKind::Blob => Ok(Some(GrantFrom::Blob(name))),
                Some(_) => fail(blob_path, rule(format!("binary \"{name}\" is an elf; stdin reads a blob"))),
                None => fail(blob_path, rule(format!("no blob named \"{name}\" in binaries"))),
            }
        }
        (None, Some(text)) => {
            let text_path = join(path, "text");
            let text = string(&text_path, text)?;
            if text.len() > LIST_MAX {
                return fail(
                    text_path,
                    rule(format!("stdin text is {} bytes, the limit is {LIST_MAX} (use a blob)", text.len())),
                );
            }
            Ok(Some(GrantFrom::Text(text)))
        }
        _ => fail(path, rule("stdin is exactly one of {blob: name} or {text: \"…\"}".into())),
    }
}

/// moduleBytes, memoryPages, tableElements: positive integers up to [`LIMIT_CEILINGS`].
fn limits(path: &str, v: Option<&Value>) -> Result<[Option<u64>; 3], FieldError> {
    let mut out = [None; 3];
    let Some(v) = v else { return Ok(out) };
    let fields = object(path, v, LIMIT_FIELDS)?;
    for ((slot, key), ceiling) in out.iter_mut().zip(LIMIT_FIELDS).zip(LIMIT_CEILINGS) {
        let Some(value) = fields.get(*key) else { continue };
        let n = value.as_u64().filter(|n| *n > 0).ok_or(FieldError {
            path: join(path, key),
            problem: Problem::WrongType { expected: "a positive integer" },
        })?;
        if n > ceiling {
            return fail(
                join(path, key),
                rule(format!("{n} is over the ceiling of {ceiling} capos-wasm's heap is sized for")),
            );
        }
        *slot = Some(n);
    }
    Ok(out)
}
// endregion: w8

/// One instance after checking.
struct Lowered {
    name: String,
    binary: String,
    args: String,
    env: String,
    caps: [bool; 4],
    stdin: Option<GrantFrom>,
    limits: [Option<u64>; 3],
    /// W.8: capos-wasm prints the instance's phase figures (`bench` on its table line).
    bench: bool,
    /// W.5: the instance's preopened directories.
    preopens: Vec<Preopen>,
    /// Appendix A.8: the `.cwasm` blob of an instance that runs on wasmtime, and the grant that
    /// carries it (`cwasm` for native code, `pulley` for Pulley bytecode).
    cwasm: Option<(String, &'static str)>,
}

// region: engine
/// The engines an instance may name (appendix A.8); wasmi when it names none. `pulley` is
/// wasmtime running Pulley bytecode instead of native code.
pub const ENGINES: &[&str] = &["wasmi", "wasmtime", "pulley"];

/// An instance's `engine` and `cwasm`: the blob name of its `.cwasm` when it runs on wasmtime,
/// with the grant that tells capos-wasm which code the manifest chose. wasmtime needs a `.cwasm`
/// and wasmi takes none, so each without the other is refused.
fn engine(
    path: &str,
    fields: &serde_json::Map<String, Value>,
    binaries: &[BinarySource],
) -> Result<Option<(String, &'static str)>, FieldError> {
    let engine_path = join(path, "engine");
    let engine = match fields.get("engine") {
        None => "wasmi".to_string(),
        Some(v) => string(&engine_path, v)?,
    };
    if !ENGINES.contains(&engine.as_str()) {
        return fail(engine_path, rule(format!("engine must be one of {}, not \"{engine}\"", ENGINES.join(", "))));
    }
    let cwasm_path = join(path, "cwasm");
    let cwasm = match fields.get("cwasm") {
        None => None,
        Some(v) => Some(string(&cwasm_path, v)?),
    };
    let grant = if engine == "pulley" { "pulley" } else { "cwasm" };
    match (engine.as_str(), cwasm) {
        ("wasmi", None) => Ok(None),
        (_, None) => fail(
            cwasm_path,
            rule(format!("engine \"{engine}\" runs code compiled on the host: name its .cwasm blob in cwasm")),
        ),
        ("wasmi", Some(_)) => fail(
            cwasm_path,
            rule("cwasm is for engine \"wasmtime\" or \"pulley\"; wasmi runs the module itself".into()),
        ),
        (_, Some(cwasm)) => match binaries.iter().find(|b| b.name == cwasm) {
            Some(b) if b.kind == BinaryKind::Blob => Ok(Some((cwasm, grant))),
            Some(_) => fail(cwasm_path, rule(format!("binary \"{cwasm}\" is an elf; cwasm names a blob (a .cwasm)"))),
            None => fail(cwasm_path, rule(format!("no blob named \"{cwasm}\" in binaries"))),
        },
    }
}
// endregion: engine

fn rule(why: String) -> Problem {
    Problem::Rule(why)
}

fn valid_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Every string followed by one NUL: the bytes `args_get` lays out in guest memory.
fn nul_list(items: &[String]) -> String {
    items.iter().flat_map(|s| [s.as_str(), "\0"]).collect()
}

/// Lowers the `wasm` field of the service at `service_path` into its grants.
pub fn lower(
    service_path: &str,
    v: &Value,
    hand_grants: &[GrantSource],
    binaries: &[BinarySource],
) -> Result<Vec<GrantSource>, FieldError> {
    let path = join(service_path, "wasm");
    if !hand_grants.is_empty() {
        return fail(
            join(service_path, "grants"),
            rule("a wasm host's grants come from wasm.instances; list none by hand".into()),
        );
    }
    let fields = object(&path, v, WASM_FIELDS)?;
    let list_path = join(&path, "instances");
    let list = required(fields, &path, "instances")?.as_array().ok_or(FieldError {
        path: list_path.clone(),
        problem: Problem::WrongType { expected: "a list of instances" },
    })?;
    if list.is_empty() || list.len() > INSTANCES_MAX {
        return fail(list_path, rule(format!("a wasm host runs 1 to {INSTANCES_MAX} instances, not {}", list.len())));
    }
    let mut lowered: Vec<Lowered> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let one = instance(&format!("{list_path}[{i}]"), entry, binaries, &lowered)?;
        lowered.push(one);
    }
    let out = grants(&lowered);
    if out.len() > GRANTS_MAX {
        return fail(
            list_path,
            rule(format!("these instances need {} grants, more than the {GRANTS_MAX} a CapSet holds", out.len())),
        );
    }
    Ok(out)
}

/// The grants, in CapSet order: shared caps, the table, then each instance's module, args, env.
fn grants(instances: &[Lowered]) -> Vec<GrantSource> {
    let any = |cap: usize| instances.iter().any(|l| l.caps[cap]);
    let kernel = |name: &str, cap| GrantSource { name: name.into(), from: GrantFrom::Kernel(cap) };
    let mut out = vec![kernel("console", KernelCap::Console)];
    if any(1) {
        out.push(kernel("timer", KernelCap::Timer));
    }
    if any(2) {
        out.push(kernel("entropy", KernelCap::Entropy));
    }
    if any(3) {
        out.push(kernel("wallclock", KernelCap::WallClock));
    }
    // Appendix A.8: wasmtime's platform maps code and memories through the VirtualMemory cap.
    if instances.iter().any(|l| l.cwasm.is_some()) {
        out.push(kernel("vmem", KernelCap::VirtualMemory));
    }
    // W.5: one import grant per distinct store any instance preopens from, in first-use order.
    let mut stores: Vec<&str> = Vec::new();
    for p in instances.iter().flat_map(|l| &l.preopens) {
        if !stores.contains(&p.store.as_str()) {
            stores.push(&p.store);
        }
    }
    for (j, store) in stores.iter().enumerate() {
        out.push(GrantSource { name: format!("wasm.store.{j}"), from: GrantFrom::Import((*store).into()) });
    }
    let mut table = format!("{TABLE_HEADER}\n");
    for l in instances {
        table.push_str(&l.name);
        for (granted, cap) in l.caps.iter().zip(BOOL_CAPS) {
            if *granted {
                table.push(' ');
                table.push_str(cap);
            }
        }
        for (limit, key) in l.limits.iter().zip(["module", "memory", "table"]) {
            if let Some(n) = limit {
                table.push_str(&format!(" {key}={n}"));
            }
        }
        if l.bench {
            table.push_str(" bench");
        }
        table.push('\n');
    }
    out.push(GrantSource { name: TABLE_GRANT.into(), from: GrantFrom::Text(table) });
    for (i, l) in instances.iter().enumerate() {
        out.push(GrantSource { name: format!("wasm.{i}.module"), from: GrantFrom::Blob(l.binary.clone()) });
        out.push(GrantSource { name: format!("wasm.{i}.args"), from: GrantFrom::Text(l.args.clone()) });
        if !l.env.is_empty() {
            out.push(GrantSource { name: format!("wasm.{i}.env"), from: GrantFrom::Text(l.env.clone()) });
        }
        if let Some(stdin) = &l.stdin {
            out.push(GrantSource { name: format!("wasm.{i}.stdin"), from: stdin.clone() });
        }
        if let Some((cwasm, grant)) = &l.cwasm {
            out.push(GrantSource { name: format!("wasm.{i}.{grant}"), from: GrantFrom::Blob(cwasm.clone()) });
        }
        if !l.preopens.is_empty() {
            out.push(GrantSource {
                name: format!("wasm.{i}.preopens"),
                from: GrantFrom::Text(preopen_lines(&l.preopens, &stores)),
            });
        }
    }
    out
}

/// `<guest path> <store number> <ro|rw> <subtree, / for the root>`, one line per preopen.
fn preopen_lines(preopens: &[Preopen], stores: &[&str]) -> String {
    let mut text = String::new();
    for p in preopens {
        let j = stores.iter().position(|s| *s == p.store).unwrap_or(0);
        let mode = if p.read_only { "ro" } else { "rw" };
        let subtree = if p.subtree.is_empty() { "/" } else { &p.subtree };
        text.push_str(&format!("{} {j} {mode} {subtree}\n", p.guest));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn blobs() -> Vec<BinarySource> {
        vec![
            BinarySource { name: "capos-wasm".into(), path: "x".into(), kind: BinaryKind::Elf },
            BinarySource { name: "echo".into(), path: "y".into(), kind: BinaryKind::Blob },
        ]
    }

    fn lowered(v: Value) -> Result<Vec<GrantSource>, FieldError> {
        lower("initConfig.services[1]", &v, &[], &blobs())
    }

    fn text_of<'a>(grants: &'a [GrantSource], name: &str) -> &'a str {
        match &grants.iter().find(|g| g.name == name).unwrap().from {
            GrantFrom::Text(t) => t,
            other => panic!("{name} is {other:?}"),
        }
    }

    #[test]
    fn a_wasmtime_instance_gets_its_cwasm_and_its_host_the_vmem_cap() {
        let mut bins = blobs();
        bins.push(BinarySource { name: "echo.cwasm".into(), path: "z".into(), kind: BinaryKind::Blob });
        let v = json!({"instances": [
            {"name": "a", "binary": "echo", "engine": "wasmtime", "cwasm": "echo.cwasm"},
            {"name": "b", "binary": "echo", "engine": "wasmi"},
            {"name": "c", "binary": "echo", "engine": "pulley", "cwasm": "echo.cwasm"},
        ]});
        let g = lower("s", &v, &[], &bins).unwrap();
        let names: Vec<_> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "console",
                "vmem",
                "wasm.instances",
                "wasm.0.module",
                "wasm.0.args",
                "wasm.0.cwasm",
                "wasm.1.module",
                "wasm.1.args",
                "wasm.2.module",
                "wasm.2.args",
                "wasm.2.pulley"
            ]
        );
        assert_eq!(g[1].from, GrantFrom::Kernel(KernelCap::VirtualMemory));
        assert_eq!(g[5].from, GrantFrom::Blob("echo.cwasm".into()));
        // Only wasmi instances: no vmem.
        let wasmi = lowered(json!({"instances": [{"name": "a", "binary": "echo"}]})).unwrap();
        assert!(wasmi.iter().all(|g| g.name != "vmem"));
    }

    #[test]
    fn an_engine_and_its_cwasm_come_together() {
        let mut bins = blobs();
        bins.push(BinarySource { name: "echo.cwasm".into(), path: "z".into(), kind: BinaryKind::Blob });
        for (instance, path, why) in [
            (json!({"name": "a", "binary": "echo", "engine": "wasmtime"}), "cwasm", "name its .cwasm"),
            (json!({"name": "a", "binary": "echo", "cwasm": "echo.cwasm"}), "cwasm", "cwasm is for engine"),
            (json!({"name": "a", "binary": "echo", "engine": "pulley"}), "cwasm", "runs code compiled on the host"),
            (
                json!({"name": "a", "binary": "echo", "engine": "winch"}),
                "engine",
                "engine must be one of wasmi, wasmtime, pulley",
            ),
            (json!({"name": "a", "binary": "echo", "engine": "wasmtime", "cwasm": "capos-wasm"}), "cwasm", "is an elf"),
            (json!({"name": "a", "binary": "echo", "engine": "wasmtime", "cwasm": "nope"}), "cwasm", "no blob named"),
        ] {
            let e = lower("s", &json!({ "instances": [instance] }), &[], &bins).unwrap_err();
            assert_eq!(e.path, format!("s.wasm.instances[0].{path}"));
            assert!(format!("{:?}", e.problem).contains(why), "{:?}", e.problem);
        }
    }

    #[test]
    fn instances_become_the_documented_grants() {
        let g = lowered(json!({"instances": [
            {"name": "alpha", "binary": "echo", "args": ["a b", "", "grüße"], "env": {"K": "v"}, "caps": {"console": true}},
            {"name": "beta", "binary": "echo", "caps": {"timer": true, "console": true, "preopens": {}}},
        ]}))
        .unwrap();
        let names: Vec<_> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "console",
                "timer",
                "wasm.instances",
                "wasm.0.module",
                "wasm.0.args",
                "wasm.0.env",
                "wasm.1.module",
                "wasm.1.args"
            ]
        );
        assert_eq!(text_of(&g, "wasm.instances"), "capos-wasm instances 1\nalpha console\nbeta console timer\n");
        assert_eq!(text_of(&g, "wasm.0.args"), "alpha\0a b\0\0grüße\0");
        assert_eq!(text_of(&g, "wasm.0.env"), "K=v\0");
        assert_eq!(text_of(&g, "wasm.1.args"), "beta\0");
        assert_eq!(g[3].from, GrantFrom::Blob("echo".into()));
    }

    #[test]
    fn stdin_wallclock_and_limits_lower_to_a_grant_and_table_words() {
        let g = lowered(json!({"instances": [
            {"name": "cue", "binary": "echo", "stdin": {"blob": "echo"}, "caps": {"console": true, "wallclock": true},
             "limits": {"moduleBytes": 40_000_000, "memoryPages": 1024, "tableElements": 32768}},
            {"name": "t", "binary": "echo", "stdin": {"text": "hi\n"}},
        ]}))
        .unwrap();
        let names: Vec<_> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "console",
                "wallclock",
                "wasm.instances",
                "wasm.0.module",
                "wasm.0.args",
                "wasm.0.stdin",
                "wasm.1.module",
                "wasm.1.args",
                "wasm.1.stdin"
            ]
        );
        assert_eq!(g[1].from, GrantFrom::Kernel(KernelCap::WallClock));
        assert_eq!(
            text_of(&g, "wasm.instances"),
            "capos-wasm instances 1\ncue console wallclock module=40000000 memory=1024 table=32768\nt\n"
        );
        assert_eq!(g[5].from, GrantFrom::Blob("echo".into()));
        assert_eq!(text_of(&g, "wasm.1.stdin"), "hi\n");
    }

    #[test]
    fn preopens_lower_to_store_imports_and_one_text_per_instance() {
        let g = lowered(json!({"instances": [
            {"name": "a", "binary": "echo", "caps": {"preopens": {"/data": {"store": "store.store", "path": "apps/a"}, "/etc": {"store": "store.store", "path": "etc", "readOnly": true}}}},
            {"name": "b", "binary": "echo"},
            {"name": "c", "binary": "echo", "caps": {"preopens": {"/": {"store": "other.fs"}}}},
        ]}))
        .unwrap();
        let names: Vec<_> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "console",
                "wasm.store.0",
                "wasm.store.1",
                "wasm.instances",
                "wasm.0.module",
                "wasm.0.args",
                "wasm.0.preopens",
                "wasm.1.module",
                "wasm.1.args",
                "wasm.2.module",
                "wasm.2.args",
                "wasm.2.preopens"
            ]
        );
        assert_eq!(g[1].from, GrantFrom::Import("store.store".into()));
        assert_eq!(g[2].from, GrantFrom::Import("other.fs".into()));
        assert_eq!(text_of(&g, "wasm.0.preopens"), "/data 0 rw apps/a\n/etc 0 ro etc\n");
        assert_eq!(text_of(&g, "wasm.2.preopens"), "/ 1 rw /\n");
        let nine: serde_json::Map<String, Value> =
            (0..=PREOPENS_MAX).map(|i| (format!("/d{i}"), json!({"store": "s.e"}))).collect();
        let e =
            lowered(json!({"instances": [{"name": "a", "binary": "echo", "caps": {"preopens": nine}}]})).unwrap_err();
        assert_eq!(
            (e.path.as_str(), e.problem.to_string()),
            (
                "initConfig.services[1].wasm.instances[0].caps.preopens",
                format!("an instance has at most {PREOPENS_MAX} preopens, not 9")
            )
        );
    }

    #[test]
    fn bad_stdin_and_limits_name_their_field() {
        let one = |extra: Value| {
            let mut i = json!({"name": "a", "binary": "echo"});
            i.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            lowered(json!({"instances": [i]})).unwrap_err()
        };
        let e = one(json!({"stdin": {"blob": "capos-wasm"}}));
        assert_eq!(
            (e.path.as_str(), e.problem.to_string()),
            (
                "initConfig.services[1].wasm.instances[0].stdin.blob",
                "binary \"capos-wasm\" is an elf; stdin reads a blob".into()
            )
        );
        assert_eq!(
            one(json!({"stdin": {"blob": "x", "text": "y"}})).path,
            "initConfig.services[1].wasm.instances[0].stdin"
        );
        assert_eq!(
            one(json!({"stdin": {"text": "x".repeat(LIST_MAX + 1)}})).path,
            "initConfig.services[1].wasm.instances[0].stdin.text"
        );
        let e = one(json!({"limits": {"memoryPages": 2049}}));
        assert_eq!(
            (e.path.as_str(), e.problem.to_string()),
            (
                "initConfig.services[1].wasm.instances[0].limits.memoryPages",
                "2049 is over the ceiling of 2048 capos-wasm's heap is sized for".into()
            )
        );
        assert_eq!(
            one(json!({"limits": {"tableElements": 0}})).path,
            "initConfig.services[1].wasm.instances[0].limits.tableElements"
        );
        assert_eq!(one(json!({"limits": {"fuel": 1}})).path, "initConfig.services[1].wasm.instances[0].limits.fuel");
    }

    #[test]
    fn argv_at_the_bound_passes_and_one_byte_more_fails() {
        // "a\0" is 2 bytes; the argument plus its NUL fills the rest.
        let exact = "x".repeat(LIST_MAX - 2 - 1);
        assert!(lowered(json!({"instances": [{"name": "a", "binary": "echo", "args": [exact.clone()]}]})).is_ok());
        let e = lowered(json!({"instances": [{"name": "a", "binary": "echo", "args": [exact + "x"]}]})).unwrap_err();
        assert_eq!(e.path, "initConfig.services[1].wasm.instances[0].args");
        assert_eq!(e.problem.to_string(), "argv is 4097 bytes with its NUL terminators, the limit is 4096");
    }

    #[test]
    fn each_fault_names_its_field() {
        let path_of = |v: Value| lowered(v).unwrap_err().path;
        let one = |extra: Value| {
            let mut i = json!({"name": "a", "binary": "echo"});
            i.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            json!({"instances": [i]})
        };
        assert_eq!(
            path_of(one(json!({"caps": {"network": true}}))),
            "initConfig.services[1].wasm.instances[0].caps.network"
        );
        assert_eq!(path_of(one(json!({"binary": "nope"}))), "initConfig.services[1].wasm.instances[0].binary");
        assert_eq!(path_of(one(json!({"binary": "capos-wasm"}))), "initConfig.services[1].wasm.instances[0].binary");
        assert_eq!(path_of(one(json!({"name": "a b"}))), "initConfig.services[1].wasm.instances[0].name");
        assert_eq!(
            path_of(one(json!({"args": ["ok", "nul\u{0}"]}))),
            "initConfig.services[1].wasm.instances[0].args[1]"
        );
        assert_eq!(path_of(one(json!({"env": {"A=B": "x"}}))), "initConfig.services[1].wasm.instances[0].env.A=B");
        assert_eq!(
            path_of(one(json!({"caps": {"preopens": ["/"]}}))),
            "initConfig.services[1].wasm.instances[0].caps.preopens"
        );
        let pre = |p: Value| path_of(one(json!({"caps": {"preopens": p}})));
        assert_eq!(
            pre(json!({"/d": {"path": "x"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.store"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "nodot"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.store"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "s.e", "path": "../up"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.path"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "s.e", "path": "a//b"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.path"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "s.e", "path": "/abs"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.path"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "s.e", "readOnly": "yes"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.readOnly"
        );
        assert_eq!(
            pre(json!({"/d": {"store": "s.e", "mode": "rw"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens./d.mode"
        );
        assert_eq!(
            pre(json!({"with space": {"store": "s.e"}})),
            "initConfig.services[1].wasm.instances[0].caps.preopens.with space"
        );
        assert_eq!(pre(json!({"": {"store": "s.e"}})), "initConfig.services[1].wasm.instances[0].caps.preopens.");
        assert_eq!(
            path_of(one(json!({"caps": {"timer": "yes"}}))),
            "initConfig.services[1].wasm.instances[0].caps.timer"
        );
        let twice = json!({"instances": [{"name": "a", "binary": "echo"}, {"name": "a", "binary": "echo"}]});
        let e = lowered(twice).unwrap_err();
        assert_eq!(e.path, "initConfig.services[1].wasm.instances[1].name");
        assert_eq!(e.problem.to_string(), "instance name \"a\" is used twice (first at instances[0])");
        assert_eq!(path_of(json!({"instances": []})), "initConfig.services[1].wasm.instances");
        let hand = [GrantSource { name: "x".into(), from: GrantFrom::Text("y".into()) }];
        let e = lower("s", &json!({"instances": [{"name": "a", "binary": "echo"}]}), &hand, &blobs()).unwrap_err();
        assert_eq!(e.path, "s.grants");
    }
}
