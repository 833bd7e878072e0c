//! A service's supervision fields in cue's JSON: `after`, `mustSucceed`, `restart`,
//! `restartLimit`, `restartBackoffMs` and `deadlineMs` (chapter A.5). Every one is optional;
//! missing ones take the defaults of capos_schema::supervision. The rules that need the whole
//! manifest (an `after` naming a real service, no cycles) are the shared validator's.
use crate::error::Problem;
use crate::json::{fail, join, string, FieldError};
use capos_schema::supervision::{DEFAULT_BACKOFF_MS, DEFAULT_RESTART_LIMIT};
use serde_json::{Map, Value};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SupervisionSource {
    pub after: Vec<String>,
    pub must_succeed: Option<bool>,
    pub on_failure: Option<(u32, u32)>,
    pub deadline_ms: Option<u32>,
    pub quota: capos_schema::supervision::Quota,
}

fn whole(path: &str, v: &Value, expected: &'static str) -> Result<u32, FieldError> {
    match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
        Some(n) => Ok(n),
        None => fail(path, Problem::WrongType { expected }),
    }
}

fn millis(path: &str, v: &Value) -> Result<u32, FieldError> {
    whole(path, v, "a whole number of milliseconds")
}

/// Reads the supervision fields of the service at `path`.
pub fn parse(path: &str, fields: &Map<String, Value>) -> Result<SupervisionSource, FieldError> {
    let mut out = SupervisionSource::default();
    if let Some(v) = fields.get("after") {
        let Some(list) = v.as_array() else {
            return fail(join(path, "after"), Problem::WrongType { expected: "a list of service names" });
        };
        for (i, name) in list.iter().enumerate() {
            out.after.push(string(&format!("{path}.after[{i}]"), name)?);
        }
    }
    if let Some(v) = fields.get("mustSucceed") {
        let Some(b) = v.as_bool() else {
            return fail(join(path, "mustSucceed"), Problem::WrongType { expected: "a bool" });
        };
        out.must_succeed = Some(b);
    }
    let restart = match fields.get("restart") {
        None => "never".to_string(),
        Some(v) => string(&join(path, "restart"), v)?,
    };
    let limit = fields
        .get("restartLimit")
        .map(|v| whole(&join(path, "restartLimit"), v, "a whole number of restarts"))
        .transpose()?;
    let backoff = fields.get("restartBackoffMs").map(|v| millis(&join(path, "restartBackoffMs"), v)).transpose()?;
    match restart.as_str() {
        "never" => {
            if limit.is_some() || backoff.is_some() {
                let field = if limit.is_some() { "restartLimit" } else { "restartBackoffMs" };
                return fail(
                    join(path, field),
                    Problem::Rule("only a service with restart: \"on-failure\" restarts".into()),
                );
            }
        }
        "on-failure" => {
            out.on_failure = Some((limit.unwrap_or(DEFAULT_RESTART_LIMIT), backoff.unwrap_or(DEFAULT_BACKOFF_MS)))
        }
        _ => return fail(join(path, "restart"), Problem::BadValue { expected: "\"never\" or \"on-failure\"".into() }),
    }
    if let Some(v) = fields.get("deadlineMs") {
        let ms = millis(&join(path, "deadlineMs"), v)?;
        if ms == 0 {
            return fail(
                join(path, "deadlineMs"),
                Problem::Rule("a deadline of 0 ms could never be met (leave the field out for none)".into()),
            );
        }
        out.deadline_ms = Some(ms);
    }
    if let Some(v) = fields.get("quota") {
        out.quota = quota(&join(path, "quota"), v)?;
    }
    Ok(out)
}

/// `quota: {memoryMiB?: int, caps?: int, kernelKiB?: int}` (appendix A.9): each a whole number
/// above 0; the shared validator checks the upper limits and that `kernelKiB` comes with
/// `memoryMiB`.
fn quota(path: &str, v: &Value) -> Result<capos_schema::supervision::Quota, FieldError> {
    let Some(fields) = v.as_object() else {
        return fail(path, Problem::WrongType { expected: "a struct with memoryMiB, caps and kernelKiB" });
    };
    let mut q = capos_schema::supervision::Quota::default();
    for (key, value) in fields {
        let at = join(path, key);
        let n = match key.as_str() {
            "memoryMiB" => whole(&at, value, "a whole number of MiB")?,
            "caps" => whole(&at, value, "a whole number of caps")?,
            "kernelKiB" => whole(&at, value, "a whole number of KiB")?,
            _ => return fail(at, Problem::Rule("a quota has only memoryMiB, caps and kernelKiB".into())),
        };
        if n == 0 {
            return fail(
                at,
                Problem::Rule("a quota of 0 could hold nothing (leave the field out for the default)".into()),
            );
        }
        match key.as_str() {
            "memoryMiB" => q.memory_mib = Some(n),
            "kernelKiB" => q.kernel_kib = Some(n),
            _ => q.caps = Some(n),
        }
    }
    Ok(q)
}

/// The schema's view of the parsed fields.
pub fn view(src: &SupervisionSource) -> capos_schema::supervision::Supervision<'_> {
    use capos_schema::supervision::{Restart, Supervision};
    Supervision {
        after: src.after.iter().map(String::as_str).collect(),
        must_succeed: src.must_succeed.unwrap_or(true),
        restart: match src.on_failure {
            None => Restart::Never,
            Some((limit, backoff_ms)) => Restart::OnFailure { limit, backoff_ms },
        },
        deadline_ms: src.deadline_ms,
        quota: src.quota,
    }
}
