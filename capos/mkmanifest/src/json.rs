//! The evaluated manifest (cue's JSON) checked field by field and turned into plain Rust values.
//!
//! The JSON shape is the CUE shape:
//! `{schemaVersion, binaries: {name: {path, kind}}, initConfig: {services: [{name, binary,
//! grants: {name: {kernel|blob|text|export|import}}}]}, kernelParams: {traceErrors?}}`.
//! Every object is closed: a field not listed here is an error naming the allowed ones.
use crate::error::Problem;
use capos_schema::ids::KernelCap;
use capos_schema::manifest::BinaryKind;
use serde_json::{Map, Value};

pub const ROOT_FIELDS: &[&str] = &["schemaVersion", "binaries", "initConfig", "kernelParams", "devices"];
const BINARY_FIELDS: &[&str] = &["path", "kind"];
const INIT_CONFIG_FIELDS: &[&str] = &["services"];
// `wasm`: a wasm host's instances, lowered to grants by [`crate::wasm`].
// `after` … `deadlineMs`, `quota`: how init supervises it and what it may hold, read by [`crate::supervision`].
const SERVICE_FIELDS: &[&str] = &[
    "name",
    "binary",
    "grants",
    "wasm",
    "after",
    "mustSucceed",
    "restart",
    "restartLimit",
    "restartBackoffMs",
    "deadlineMs",
    "quota",
];
const GRANT_FIELDS: &[&str] = &["kernel", "blob", "text", "export", "import", "device"];
const KERNEL_PARAMS_FIELDS: &[&str] = &["traceErrors"];

#[derive(Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub problem: Problem,
}

pub(crate) fn fail<T>(path: impl Into<String>, problem: Problem) -> Result<T, FieldError> {
    Err(FieldError { path: path.into(), problem })
}

#[derive(Debug, PartialEq, Eq)]
pub struct ManifestSource {
    pub schema_version: u32,
    pub binaries: Vec<BinarySource>,
    pub services: Vec<ServiceSource>,
    pub trace_errors: bool,
    /// The `devices` table (appendix A.6); empty when the field is absent.
    pub devices: Vec<crate::devices::DeviceSource>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BinarySource {
    pub name: String,
    /// Relative to the repository root.
    pub path: String,
    pub kind: BinaryKind,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ServiceSource {
    pub name: String,
    pub binary: String,
    pub grants: Vec<GrantSource>,
    pub supervision: crate::supervision::SupervisionSource,
}

#[derive(Debug, PartialEq, Eq)]
pub struct GrantSource {
    pub name: String,
    pub from: GrantFrom,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantFrom {
    Kernel(KernelCap),
    Blob(String),
    Text(String),
    /// The owner facet of this service's export of that name.
    Export(String),
    /// `<service>.<export>`: a client facet of another service's export.
    Import(String),
    /// A DeviceManager restricted to the manifest device of that name.
    Device(String),
}

pub(crate) fn object<'a>(
    path: &str,
    v: &'a Value,
    allowed: &'static [&'static str],
) -> Result<&'a Map<String, Value>, FieldError> {
    let map =
        v.as_object().ok_or(FieldError { path: path.into(), problem: Problem::WrongType { expected: "a struct" } })?;
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return fail(join(path, unknown), Problem::UnknownField { allowed });
    }
    Ok(map)
}

pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

pub(crate) fn required<'a>(map: &'a Map<String, Value>, path: &str, field: &str) -> Result<&'a Value, FieldError> {
    map.get(field).ok_or(FieldError { path: join(path, field), problem: Problem::Missing })
}

pub(crate) fn string(path: &str, v: &Value) -> Result<String, FieldError> {
    match v.as_str() {
        Some(s) => Ok(s.to_string()),
        None => fail(path, Problem::WrongType { expected: "a string" }),
    }
}

/// Parses cue's JSON output.
pub fn parse(v: &Value) -> Result<ManifestSource, FieldError> {
    let root = object("", v, ROOT_FIELDS)?;
    let version = required(root, "", "schemaVersion")?;
    let schema_version = match version.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) => n,
        None => return fail("schemaVersion", Problem::WrongType { expected: "an unsigned 32-bit integer" }),
    };
    let binaries = parse_binaries(required(root, "", "binaries")?)?;
    let init_config = object("initConfig", required(root, "", "initConfig")?, INIT_CONFIG_FIELDS)?;
    let services = parse_services(required(init_config, "initConfig", "services")?, &binaries)?;
    let trace_errors = match root.get("kernelParams") {
        None => false,
        Some(params) => match object("kernelParams", params, KERNEL_PARAMS_FIELDS)?.get("traceErrors") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return fail("kernelParams.traceErrors", Problem::WrongType { expected: "a bool" }),
        },
    };
    let devices = match root.get("devices") {
        None => Vec::new(),
        Some(d) => crate::devices::parse(d)?,
    };
    Ok(ManifestSource { schema_version, binaries, services, trace_errors, devices })
}

fn parse_binaries(v: &Value) -> Result<Vec<BinarySource>, FieldError> {
    let map = v.as_object().ok_or(FieldError {
        path: "binaries".into(),
        problem: Problem::WrongType { expected: "a struct of binaries" },
    })?;
    let mut binaries = Vec::new();
    for (name, entry) in map {
        let path = format!("binaries.{name}");
        let fields = object(&path, entry, BINARY_FIELDS)?;
        let file = string(&join(&path, "path"), required(fields, &path, "path")?)?;
        if file.starts_with('/') {
            return fail(join(&path, "path"), Problem::AbsolutePath);
        }
        let kind = match required(fields, &path, "kind")?.as_str() {
            Some("elf") => BinaryKind::Elf,
            Some("blob") => BinaryKind::Blob,
            _ => return fail(join(&path, "kind"), Problem::BadValue { expected: "\"elf\" or \"blob\"".into() }),
        };
        binaries.push(BinarySource { name: name.clone(), path: file, kind });
    }
    Ok(binaries)
}

fn parse_services(v: &Value, binaries: &[BinarySource]) -> Result<Vec<ServiceSource>, FieldError> {
    let list = v.as_array().ok_or(FieldError {
        path: "initConfig.services".into(),
        problem: Problem::WrongType { expected: "a list of services" },
    })?;
    let mut services = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = format!("initConfig.services[{i}]");
        let fields = object(&path, entry, SERVICE_FIELDS)?;
        let name = string(&join(&path, "name"), required(fields, &path, "name")?)?;
        let binary = string(&join(&path, "binary"), required(fields, &path, "binary")?)?;
        let grants = match fields.get("grants") {
            None => Vec::new(),
            Some(g) => parse_grants(&join(&path, "grants"), g)?,
        };
        let grants = match fields.get("wasm") {
            Some(wasm) => crate::wasm::lower(&path, wasm, &grants, binaries)?,
            None => grants,
        };
        let supervision = crate::supervision::parse(&path, fields)?;
        services.push(ServiceSource { name, binary, grants, supervision });
    }
    Ok(services)
}

fn parse_grants(path: &str, v: &Value) -> Result<Vec<GrantSource>, FieldError> {
    let map = v
        .as_object()
        .ok_or(FieldError { path: path.into(), problem: Problem::WrongType { expected: "a struct of grants" } })?;
    let mut grants = Vec::new();
    for (name, entry) in map {
        let grant_path = join(path, name);
        let fields = object(&grant_path, entry, GRANT_FIELDS)?;
        if fields.len() != 1 {
            let expected = "exactly one of kernel, blob, text, export, import or device".to_string();
            return fail(grant_path, Problem::BadValue { expected });
        }
        let (field, value) = fields.iter().next().expect("one field checked above");
        let value_path = join(&grant_path, field);
        let text = string(&value_path, value)?;
        let from = match field.as_str() {
            "kernel" => match KernelCap::from_name(&text) {
                Some(cap) => GrantFrom::Kernel(cap),
                None => {
                    return fail(
                        value_path,
                        Problem::Manifest(capos_schema::manifest::ManifestErrorKind::UnknownKernelCap(text)),
                    )
                }
            },
            "blob" => GrantFrom::Blob(text),
            "export" => GrantFrom::Export(text),
            "import" => GrantFrom::Import(text),
            "device" => GrantFrom::Device(text),
            _ => GrantFrom::Text(text),
        };
        grants.push(GrantSource { name: name.clone(), from });
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;
    use capos_schema::manifest::ManifestErrorKind;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "schemaVersion": 1,
            "binaries": {
                "init": {"path": "build/capos/init", "kind": "elf"},
                "words": {"path": "build/words.txt", "kind": "blob"}
            },
            "initConfig": {"services": [
                {"name": "init", "binary": "init", "grants": {"console": {"kernel": "console"}}},
                {"name": "b", "binary": "init", "grants": {
                    "zeta": {"text": "z"}, "alpha": {"blob": "words"}, "console": {"kernel": "console"}
                }}
            ]},
            "kernelParams": {"traceErrors": true}
        })
    }

    fn error_of(v: Value) -> FieldError {
        parse(&v).unwrap_err()
    }

    #[test]
    fn parses_and_keeps_grant_order() {
        let m = parse(&sample()).unwrap();
        assert_eq!(m.schema_version, 1);
        assert!(m.trace_errors);
        assert_eq!(
            m.binaries[1],
            BinarySource { name: "words".into(), path: "build/words.txt".into(), kind: BinaryKind::Blob }
        );
        let names: Vec<_> = m.services[1].grants.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha", "console"]);
        assert_eq!(m.services[1].grants[1].from, GrantFrom::Blob("words".into()));
    }

    #[test]
    fn unknown_root_field_lists_the_allowed_ones() {
        let mut v = sample();
        v["extra"] = json!(1);
        let e = error_of(v);
        assert_eq!(e.path, "extra");
        assert_eq!(
            e.problem.to_string(),
            "unknown field (allowed: schemaVersion, binaries, initConfig, kernelParams, devices)"
        );
    }

    #[test]
    fn unknown_kernel_cap_names_the_grant_field() {
        let mut v = sample();
        v["initConfig"]["services"][1]["grants"]["net"] = json!({"kernel": "network"});
        let e = error_of(v);
        assert_eq!(e.path, "initConfig.services[1].grants.net.kernel");
        assert_eq!(e.problem, Problem::Manifest(ManifestErrorKind::UnknownKernelCap("network".into())));
    }

    #[test]
    fn grant_needs_exactly_one_source() {
        let mut v = sample();
        v["initConfig"]["services"][1]["grants"]["two"] = json!({"text": "a", "blob": "words"});
        assert_eq!(error_of(v).path, "initConfig.services[1].grants.two");
        let mut v = sample();
        v["initConfig"]["services"][1]["grants"]["odd"] = json!({"file": "x"});
        assert_eq!(error_of(v).path, "initConfig.services[1].grants.odd.file");
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("initConfig");
        assert_eq!(error_of(v), FieldError { path: "initConfig".into(), problem: Problem::Missing });
        let mut v = sample();
        v["binaries"]["init"]["kind"] = json!("exe");
        assert_eq!(error_of(v).path, "binaries.init.kind");
        let mut v = sample();
        v["binaries"]["init"]["path"] = json!("/etc/passwd");
        assert_eq!(error_of(v), FieldError { path: "binaries.init.path".into(), problem: Problem::AbsolutePath });
        let mut v = sample();
        v["schemaVersion"] = json!(-1);
        assert_eq!(error_of(v).path, "schemaVersion");
        let mut v = sample();
        v["initConfig"]["services"][0]["name"] = json!(3);
        assert_eq!(error_of(v).path, "initConfig.services[0].name");
    }
}
