//! How init supervises one service: ordering, whether it must succeed, restarts and a deadline.
//!
//! The `Service` fields `after`, `mustSucceed`, `restart`, `restartLimit`, `restartBackoffMs` and
//! `deadlineMs` of the schema, decoded into one value and checked against the whole manifest: an
//! `after` must name another service that is not init, and the `after` graph must have no cycle
//! (init would wait for ever); restart counts and backoffs are bounded so that a crashing service
//! cannot keep init busy without end.
use crate::capos_capnp::service;
use crate::ids::KernelCap;
use crate::manifest::{GrantSource, Manifest, ManifestError, ManifestErrorKind, Service, INIT};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// At most this many restarts per service.
pub const MAX_RESTARTS: u32 = 16;
/// The longest backoff before a restart, and the longest deadline, in milliseconds (one hour).
pub const MAX_MS: u32 = 3_600_000;
/// Restarts of an `on-failure` service when the manifest names no limit.
pub const DEFAULT_RESTART_LIMIT: u32 = 3;
/// The first backoff of an `on-failure` service when the manifest names none.
pub const DEFAULT_BACKOFF_MS: u32 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supervision<'a> {
    /// Services that must have ended (however they ended) before this one starts.
    pub after: Vec<&'a str>,
    /// When false, a failure is printed but does not count in init's verdict.
    pub must_succeed: bool,
    pub restart: Restart,
    /// Milliseconds a run may take before init kills it; None for no deadline.
    pub deadline_ms: Option<u32>,
    /// What init asks the kernel to let each run hold (appendix A.9).
    pub quota: Quota,
}

/// A service's quota: a memory reservation of its own (None: it shares init's account) and a
/// cap-table size (None: the kernel's most, 1024).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quota {
    pub memory_mib: Option<u32>,
    pub caps: Option<u32>,
    /// With `memory_mib`: the kernel-heap share for the service's waiting calls, in KiB (None:
    /// the kernel's default share, 256 KiB).
    pub kernel_kib: Option<u32>,
}

/// The largest cap quota: a whole cap table (the kernel asserts it equals kcore's `MAX_CAPS`).
pub const MAX_CAPS: u32 = 1024;

/// The largest memory quota a manifest may name, in MiB (the direct map's 4 GiB).
pub const MAX_MEMORY_MIB: u32 = 4096;

/// The largest kernel-heap share a manifest may name, in KiB: half the kernel's 32 MiB heap.
pub const MAX_KERNEL_KIB: u32 = 16384;

impl Quota {
    /// The spawn request's bytes, 0 for "share the spawner's".
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mib.map_or(0, |m| u64::from(m) << 20)
    }

    /// The spawn request's kernel-heap share in bytes, 0 for the kernel's default.
    pub fn kernel_bytes(&self) -> u64 {
        self.kernel_kib.map_or(0, |k| u64::from(k) << 10)
    }
}

impl Default for Supervision<'_> {
    fn default() -> Self {
        Supervision {
            after: Vec::new(),
            must_succeed: true,
            restart: Restart::Never,
            deadline_ms: None,
            quota: Quota::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    Never,
    /// Run again after a failure (an exit code other than 0, a fault, a kill), at most `limit`
    /// times; the n-th restart waits `backoff_ms << (n - 1)`.
    OnFailure {
        limit: u32,
        backoff_ms: u32,
    },
}

impl Restart {
    /// The wait before restart number `n` (1-based), capped at [`MAX_MS`].
    pub fn backoff(self, n: u32) -> u32 {
        match self {
            Restart::Never => 0,
            Restart::OnFailure { backoff_ms, .. } => {
                let shift = n.saturating_sub(1).min(31);
                (u64::from(backoff_ms) << shift).min(u64::from(MAX_MS)) as u32
            }
        }
    }
}

fn error(path: impl Into<String>, kind: ManifestErrorKind) -> ManifestError {
    ManifestError { path: path.into(), kind }
}

/// Reads the supervision fields of one service message.
pub fn decode<'a>(path: &str, s: service::Reader<'a>) -> Result<Supervision<'a>, ManifestError> {
    let mut after = Vec::new();
    let list =
        s.get_after().map_err(|e| error(format!("{path}.after"), ManifestErrorKind::Malformed(format!("{e}"))))?;
    for (i, t) in list.iter().enumerate() {
        let at = format!("{path}.after[{i}]");
        let t = t.map_err(|e| error(at.as_str(), ManifestErrorKind::Malformed(format!("{e}"))))?;
        after.push(t.to_str().map_err(|_| error(at, ManifestErrorKind::NotUtf8))?);
    }
    let restart = match s.get_restart() {
        Ok(service::Restart::Never) => Restart::Never,
        Ok(service::Restart::OnFailure) => {
            Restart::OnFailure { limit: s.get_restart_limit(), backoff_ms: s.get_restart_backoff_ms() }
        }
        Err(capnp::NotInSchema(v)) => {
            return Err(error(format!("{path}.restart"), ManifestErrorKind::UnknownEnumValue(v)))
        }
    };
    let deadline_ms = Some(s.get_deadline_ms()).filter(|&ms| ms != 0);
    let q = s.get_quota().map_err(|e| error(format!("{path}.quota"), ManifestErrorKind::Malformed(format!("{e}"))))?;
    let mib = q.get_memory_bytes() >> 20;
    let quota = Quota {
        memory_mib: Some(u32::try_from(mib).unwrap_or(u32::MAX)).filter(|&m| m != 0),
        caps: Some(q.get_caps()).filter(|&c| c != 0),
        kernel_kib: Some(u32::try_from(q.get_kernel_bytes() >> 10).unwrap_or(u32::MAX)).filter(|&k| k != 0),
    };
    Ok(Supervision { after, must_succeed: s.get_must_succeed(), restart, deadline_ms, quota })
}

/// Writes the supervision fields of one service message.
pub fn encode(sup: &Supervision<'_>, mut out: service::Builder<'_>) {
    let mut after = out.reborrow().init_after(sup.after.len() as u32);
    for (i, name) in sup.after.iter().enumerate() {
        after.set(i as u32, *name);
    }
    out.set_must_succeed(sup.must_succeed);
    match sup.restart {
        Restart::Never => out.set_restart(service::Restart::Never),
        Restart::OnFailure { limit, backoff_ms } => {
            out.set_restart(service::Restart::OnFailure);
            out.set_restart_limit(limit);
            out.set_restart_backoff_ms(backoff_ms);
        }
    }
    out.set_deadline_ms(sup.deadline_ms.unwrap_or(0));
    let mut q = out.init_quota();
    q.set_memory_bytes(sup.quota.memory_bytes());
    q.set_caps(sup.quota.caps.unwrap_or(0));
    q.set_kernel_bytes(sup.quota.kernel_bytes());
}

// region: validate-supervision
/// Checks one service's supervision against the manifest (`path` is the service's own path).
pub fn validate(m: &Manifest<'_>, path: &str, s: &Service<'_>) -> Result<(), ManifestError> {
    let sup = &s.supervision;
    if s.name == INIT && *sup != Supervision::default() {
        return Err(error(path, ManifestErrorKind::InitSupervised));
    }
    for (i, name) in sup.after.iter().enumerate() {
        let at = format!("{path}.after[{i}]");
        if *name == s.name || *name == INIT || m.service(name).is_none() {
            return Err(error(at, ManifestErrorKind::BadAfter((*name).into())));
        }
        if sup.after[..i].contains(name) {
            return Err(error(at, ManifestErrorKind::Duplicate((*name).into())));
        }
    }
    if let Restart::OnFailure { limit, backoff_ms } = sup.restart {
        if limit == 0 || limit > MAX_RESTARTS {
            return Err(error(format!("{path}.restartLimit"), ManifestErrorKind::RestartLimit { limit }));
        }
        if backoff_ms > MAX_MS {
            return Err(error(format!("{path}.restartBackoffMs"), ManifestErrorKind::TooManyMs { ms: backoff_ms }));
        }
    }
    if let Some(ms) = sup.deadline_ms.filter(|&ms| ms > MAX_MS) {
        return Err(error(format!("{path}.deadlineMs"), ManifestErrorKind::TooManyMs { ms }));
    }
    if let Some(value) = sup.quota.memory_mib.filter(|&m| m > MAX_MEMORY_MIB) {
        let kind = ManifestErrorKind::QuotaTooLarge { what: "memoryMiB", value, max: MAX_MEMORY_MIB };
        return Err(error(format!("{path}.quota.memoryMiB"), kind));
    }
    if let Some(value) = sup.quota.kernel_kib.filter(|&k| k > MAX_KERNEL_KIB) {
        let kind = ManifestErrorKind::QuotaTooLarge { what: "kernelKiB", value, max: MAX_KERNEL_KIB };
        return Err(error(format!("{path}.quota.kernelKiB"), kind));
    }
    if sup.quota.kernel_kib.is_some() && sup.quota.memory_mib.is_none() {
        return Err(error(format!("{path}.quota.kernelKiB"), ManifestErrorKind::KernelShareNeedsMemory));
    }
    if let Some(value) = sup.quota.caps.filter(|&c| c > MAX_CAPS) {
        let kind = ManifestErrorKind::QuotaTooLarge { what: "caps", value, max: MAX_CAPS };
        return Err(error(format!("{path}.quota.caps"), kind));
    }
    let timed = sup.deadline_ms.is_some() || sup.restart != Restart::Never;
    let init_has_timer =
        m.service(INIT).is_some_and(|i| i.grants.iter().any(|g| g.source == GrantSource::Kernel(KernelCap::Timer)));
    if timed && !init_has_timer {
        let field = if sup.deadline_ms.is_some() { "deadlineMs" } else { "restart" };
        return Err(error(format!("{path}.{field}"), ManifestErrorKind::InitNeedsTimer));
    }
    Ok(())
}

/// The `after` graph has no cycle: otherwise the services on it would wait for each other for
/// ever. Services are settled in rounds (a service settles once everything it comes after has);
/// whatever never settles lies on or behind a cycle, which is reported with its path from the
/// first such service in manifest order.
pub fn validate_order(m: &Manifest<'_>) -> Result<(), ManifestError> {
    let n = m.services.len();
    let index = |name: &str| m.services.iter().position(|s| s.name == name);
    let mut settled = alloc::vec![false; n];
    loop {
        let mut progress = false;
        for (i, s) in m.services.iter().enumerate() {
            if !settled[i] && s.supervision.after.iter().all(|a| index(a).is_none_or(|j| settled[j])) {
                settled[i] = true;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    let Some(first) = settled.iter().position(|done| !done) else { return Ok(()) };
    // Every unsettled service comes after some unsettled one: walk those edges until a repeat.
    let mut path: Vec<usize> = alloc::vec![first];
    loop {
        let here = *path.last().expect("non-empty");
        let next = m.services[here].supervision.after.iter().filter_map(|a| index(a)).find(|&j| !settled[j]);
        let Some(next) = next else { return Ok(()) };
        if let Some(at) = path.iter().position(|&p| p == next) {
            let mut names: Vec<&str> = path[at..].iter().map(|&i| m.services[i].name).collect();
            names.push(m.services[next].name);
            let kind = ManifestErrorKind::AfterCycle(names.join(" -> "));
            return Err(error(format!("initConfig.services[{}].after", path[at]), kind));
        }
        path.push(next);
    }
}
// endregion: validate-supervision

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Binary, BinaryKind, Grant, KernelParams};
    use crate::wire::AlignedBuf;
    use capos_abi::MANIFEST_SCHEMA_VERSION;

    const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0rest";

    /// init plus services named by `edges`: (name, the services it comes after).
    fn manifest<'a>(edges: &[(&'a str, &[&'a str])]) -> Manifest<'a> {
        let timer = Grant { name: "timer", source: GrantSource::Kernel(KernelCap::Timer) };
        let mut services = alloc::vec![Service {
            name: INIT,
            binary: "init",
            grants: alloc::vec![timer],
            supervision: Supervision::default()
        }];
        for (name, after) in edges {
            let supervision = Supervision { after: after.to_vec(), ..Supervision::default() };
            services.push(Service { name, binary: "init", grants: Vec::new(), supervision });
        }
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            binaries: alloc::vec![Binary { name: "init", kind: BinaryKind::Elf, data: ELF }],
            services,
            kernel_params: KernelParams::default(),
            devices: Vec::new(),
        }
    }

    fn order_error(m: &Manifest<'_>) -> Option<(String, String)> {
        crate::manifest::validate(m).err().map(|e| match e.kind {
            ManifestErrorKind::AfterCycle(c) => (e.path, c),
            other => panic!("expected a cycle, got {other:?}"),
        })
    }

    #[test]
    fn a_diamond_is_no_cycle_and_round_trips() {
        let mut m = manifest(&[("d", &["b", "c"]), ("b", &["a"]), ("c", &["a"]), ("a", &[])]);
        m.services[2].supervision.restart = Restart::OnFailure { limit: 2, backoff_ms: 7 };
        m.services[3].supervision.deadline_ms = Some(900);
        m.services[4].supervision.must_succeed = false;
        assert_eq!(order_error(&m), None);
        let bytes = AlignedBuf::copy_from(&crate::manifest::encode(&m));
        let message = crate::manifest::read(&bytes).unwrap();
        assert_eq!(crate::manifest::decode(&message).unwrap(), m);
    }

    #[test]
    fn a_cycle_behind_a_chain_is_reported_from_its_first_member() {
        // x waits on the cycle b -> c -> d -> b but is not on it.
        let m = manifest(&[("x", &["b"]), ("b", &["c"]), ("c", &["d"]), ("d", &["b"])]);
        assert_eq!(order_error(&m), Some(("initConfig.services[2].after".into(), "b -> c -> d -> b".into())));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let r = Restart::OnFailure { limit: 16, backoff_ms: 100 };
        assert_eq!([r.backoff(1), r.backoff(2), r.backoff(4)], [100, 200, 800]);
        assert_eq!(Restart::OnFailure { limit: 16, backoff_ms: MAX_MS }.backoff(16), MAX_MS);
        assert_eq!(Restart::Never.backoff(1), 0);
    }

    #[test]
    fn an_unset_message_means_the_defaults() {
        // A manifest written before these fields existed decodes to "must succeed, never restart".
        let mut message = capnp::message::Builder::new_default();
        let s = message.init_root::<service::Builder>();
        let reader = s.into_reader();
        assert_eq!(decode("s", reader).unwrap(), Supervision::default());
    }
}
