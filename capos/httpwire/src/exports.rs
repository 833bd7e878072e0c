//! What each export of the service is, from its `endpoints` text: one line per export, its name
//! and then `fetch ORIGIN…` (a Fetch reaching those origins) or `origin ORIGIN` (an HttpEndpoint
//! reaching that one).
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::url::Origin;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Fetch(Vec<Origin>),
    Endpoint(Origin),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub role: Role,
}

// region: exports
pub fn parse(text: &str) -> Result<Vec<Export>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or_default().to_string();
        let kind = words.next().ok_or(format!("endpoints line {n}: `{name}` needs `fetch` or `origin`"))?;
        let mut origins = Vec::new();
        for w in words {
            origins.push(
                Origin::parse(w)
                    .map_err(|_| format!("endpoints line {n}: expected http://A.B.C.D[:PORT], got `{w}`"))?,
            );
        }
        let role = match (kind, origins.len()) {
            ("fetch", _) => Role::Fetch(origins),
            ("origin", 1) => Role::Endpoint(origins[0]),
            ("origin", k) => return Err(format!("endpoints line {n}: `origin` takes exactly one origin, got {k}")),
            (other, _) => return Err(format!("endpoints line {n}: unknown `{other}` (expected fetch or origin)")),
        };
        out.push(Export { name, role });
    }
    Ok(out)
}
// endregion: exports

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_exports_and_their_origins() {
        let e =
            parse("fetch fetch http://10.0.2.100 http://10.0.2.101:8080\n# note\nweb origin http://10.0.2.100:80\n")
                .unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "fetch");
        assert!(matches!(&e[0].role, Role::Fetch(o) if o.len() == 2 && o[1].port == 8080));
        assert_eq!(e[1].role, Role::Endpoint(Origin::parse("http://10.0.2.100").unwrap()));
    }

    #[test]
    fn mistakes_name_their_line() {
        assert_eq!(parse("a").unwrap_err(), "endpoints line 1: `a` needs `fetch` or `origin`");
        assert_eq!(parse("\na origin").unwrap_err(), "endpoints line 2: `origin` takes exactly one origin, got 0");
        assert!(parse("a proxy http://1.2.3.4").unwrap_err().contains("unknown `proxy`"));
        assert!(parse("a fetch example.com").unwrap_err().contains("got `example.com`"));
    }
}
