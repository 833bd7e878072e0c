//! The manifest's `devices` table (appendix A.6):
//! `devices: {blk0: {pci: {vendor, device?, class}, interrupt?, dmaBytes?}}`.
//!
//! `class` is a name ("block", "network", ...) because a PCI class byte in a manifest is a typo
//! waiting to happen; the table below is the one list of names.
use crate::error::Problem;
use crate::json::{fail, join, object, required, FieldError};
use serde_json::Value;

const DEVICE_FIELDS: &[&str] = &["pci", "interrupt", "dmaBytes"];
const PCI_FIELDS: &[&str] = &["vendor", "device", "class"];
/// DMA memory a driver may hold when the entry does not say: 1 MiB.
pub const DEFAULT_DMA_BYTES: u64 = 1 << 20;

/// PCI base classes by manifest name.
pub const CLASSES: &[(&str, u8)] = &[("storage", 0x01), ("block", 0x01), ("network", 0x02), ("display", 0x03)];

#[derive(Debug, PartialEq, Eq)]
pub struct DeviceSource {
    pub name: String,
    pub vendor: u16,
    pub device: u16,
    pub class: u8,
    pub interrupt: bool,
    pub dma_bytes: u64,
}

fn integer(path: &str, v: &Value, max: u64) -> Result<u64, FieldError> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        _ => fail(path, Problem::BadValue { expected: format!("an integer from 0 to {max:#x}") }),
    }
}

/// Parses the `devices` root field.
pub fn parse(v: &Value) -> Result<Vec<DeviceSource>, FieldError> {
    let map = v.as_object().ok_or(FieldError {
        path: "devices".into(),
        problem: Problem::WrongType { expected: "a struct of devices" },
    })?;
    let mut out = Vec::new();
    for (name, entry) in map {
        let path = join("devices", name);
        let fields = object(&path, entry, DEVICE_FIELDS)?;
        let pci_path = join(&path, "pci");
        let pci = object(&pci_path, required(fields, &path, "pci")?, PCI_FIELDS)?;
        let vendor = integer(&join(&pci_path, "vendor"), required(pci, &pci_path, "vendor")?, 0xffff)? as u16;
        let device = match pci.get("device") {
            None => 0,
            Some(d) => integer(&join(&pci_path, "device"), d, 0xffff)? as u16,
        };
        let class_path = join(&pci_path, "class");
        let class_name = required(pci, &pci_path, "class")?.as_str().unwrap_or("");
        let Some(&(_, class)) = CLASSES.iter().find(|(n, _)| *n == class_name) else {
            let names: Vec<String> = CLASSES.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            return fail(class_path, Problem::BadValue { expected: format!("one of {}", names.join(", ")) });
        };
        let interrupt = match fields.get("interrupt") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return fail(join(&path, "interrupt"), Problem::WrongType { expected: "a bool" }),
        };
        let dma_bytes = match fields.get("dmaBytes") {
            None => DEFAULT_DMA_BYTES,
            Some(n) => integer(&join(&path, "dmaBytes"), n, u64::MAX)?,
        };
        out.push(DeviceSource { name: name.clone(), vendor, device, class, interrupt, dma_bytes });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_with_defaults() {
        let d = parse(&json!({"blk0": {"pci": {"vendor": 0x1af4, "class": "block"}}})).unwrap();
        assert_eq!(
            d,
            [DeviceSource {
                name: "blk0".into(),
                vendor: 0x1af4,
                device: 0,
                class: 1,
                interrupt: true,
                dma_bytes: DEFAULT_DMA_BYTES
            }]
        );
    }

    #[test]
    fn bad_entries_name_the_field() {
        let e = parse(&json!({"blk0": {"pci": {"vendor": 0x1af4, "class": "disk"}}})).unwrap_err();
        assert_eq!(e.path, "devices.blk0.pci.class");
        assert!(e.problem.to_string().contains("\"block\""), "{}", e.problem);
        let e = parse(&json!({"blk0": {"pci": {"vendor": 70000, "class": "block"}}})).unwrap_err();
        assert_eq!(e.path, "devices.blk0.pci.vendor");
        let e = parse(&json!({"blk0": {"pci": {"vendor": 1, "class": "block"}, "irq": 5}})).unwrap_err();
        assert_eq!(e.path, "devices.blk0.irq");
        assert_eq!(e.problem.to_string(), "unknown field (allowed: pci, interrupt, dmaBytes)");
        let e = parse(&json!({"blk0": {"interrupt": true}})).unwrap_err();
        assert_eq!(e, FieldError { path: "devices.blk0.pci".into(), problem: Problem::Missing });
    }
}
