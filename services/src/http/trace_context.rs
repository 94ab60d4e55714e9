//! W3C Trace Context (`traceparent`): continue the caller's trace or start a new one.

use uuid::Uuid;

/// `00-<trace id>-<parent id>-<flags>` for this request: the caller's trace id (or a new
/// one) and a new span id of our own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub span_id: String,
    pub flags: String,
}

impl TraceParent {
    /// The child of an incoming `traceparent` header; a new trace when it is absent or
    /// invalid (as the W3C recommends, an invalid header is ignored, not refused).
    pub fn child_of(header: Option<&str>) -> Self {
        match header.and_then(parse) {
            Some((trace_id, flags)) => Self {
                trace_id,
                span_id: new_span_id(),
                flags,
            },
            None => Self {
                trace_id: Uuid::new_v4().simple().to_string(),
                span_id: new_span_id(),
                flags: "01".to_owned(),
            },
        }
    }

    pub fn header_value(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

fn new_span_id() -> String {
    Uuid::new_v4().simple().to_string()[..16].to_owned()
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The trace id and flags of a valid version-00 header.
fn parse(header: &str) -> Option<(String, String)> {
    let mut parts = header.trim().split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let valid = version == "00"
        && parts.next().is_none()
        && is_lower_hex(trace_id, 32)
        && trace_id.bytes().any(|b| b != b'0')
        && is_lower_hex(parent_id, 16)
        && parent_id.bytes().any(|b| b != b'0')
        && is_lower_hex(flags, 2);
    valid.then(|| (trace_id.to_owned(), flags.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continues_a_valid_trace_with_a_new_span() {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let child = TraceParent::child_of(Some(incoming));
        assert_eq!(child.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(child.span_id, "00f067aa0ba902b7");
        assert!(child
            .header_value()
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    }

    #[test]
    fn starts_a_new_trace_for_invalid_headers() {
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            let t = TraceParent::child_of(Some(bad));
            assert_eq!(t.trace_id.len(), 32);
            assert!(parse(&t.header_value()).is_some());
        }
    }
}
