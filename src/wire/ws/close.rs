//! Close codes and the body of a close frame (RFC 6455 §5.5.1, §7.4).
//!
//! A close frame's body is empty, or a 2-byte big-endian status code followed by a UTF-8
//! reason: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned
//! integer (in network byte order) representing a status code … Following the 2-byte
//! integer, the body MAY contain UTF-8-encoded data with value /reason/" (§5.5.1).
//!
//! Which codes may appear on the wire (§7.4.1, §7.4.2, and the IANA registry of §11.7):
//!
//! | range | meaning | on the wire |
//! |---|---|---|
//! | 0–999 | "not used" | never |
//! | 1000–1003, 1007–1011 | defined by RFC 6455 | yes |
//! | 1004 | reserved, "meaning might be defined in the future" | never |
//! | 1005, 1006, 1015 | "MUST NOT be set as a status code in a Close control frame" | never |
//! | 1012–2999 | for this and future standards; unassigned by RFC 6455 | treated as invalid |
//! | 3000–3999 | libraries, frameworks, applications (IANA-registered) | yes |
//! | 4000–4999 | private use | yes |
//! | 5000 and up | undefined | never |
//!
//! Judgement call: 1012–1014 were later registered with IANA (service restart, try again
//! later, bad gateway). RFC 6455 does not define them and Autobahn case 7.9.x expects
//! 1002 for 1016, 1100, 2000 and 2999; this file follows RFC 6455's own list, so a peer
//! sending 1012–1014 gets a protocol error as well.

/// A status code allowed in a close frame. Convert from the wire with `TryFrom<u16>`,
/// which rejects every code of the "never" rows above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCode {
    /// 1000: "a normal closure, meaning that the purpose for which the connection was
    /// established has been fulfilled".
    Normal,
    /// 1001: "an endpoint is "going away", such as a server going down".
    GoingAway,
    /// 1002: "terminating the connection due to a protocol error".
    ProtocolError,
    /// 1003: "received a type of data it cannot accept".
    Unsupported,
    /// 1007: "received data within a message that was not consistent with the type of
    /// the message (e.g., non-UTF-8 data within a text message)".
    InvalidPayload,
    /// 1008: "received a message that violates its policy".
    PolicyViolation,
    /// 1009: "received a message that is too big for it to process".
    TooBig,
    /// 1010: (client only) "expected the server to negotiate one or more extension".
    MandatoryExtension,
    /// 1011: "encountered an unexpected condition that prevented it from fulfilling the
    /// request".
    InternalError,
    /// 3000–3999: registered by libraries and frameworks. Holds the full code; build it
    /// with `TryFrom<u16>` so it stays in range.
    Library(u16),
    /// 4000–4999: private use. Holds the full code; build it with `TryFrom<u16>`.
    Private(u16),
}

impl TryFrom<u16> for CloseCode {
    type Error = CloseError;

    fn try_from(code: u16) -> Result<Self, CloseError> {
        match code {
            1000 => Ok(CloseCode::Normal),
            1001 => Ok(CloseCode::GoingAway),
            1002 => Ok(CloseCode::ProtocolError),
            1003 => Ok(CloseCode::Unsupported),
            1007 => Ok(CloseCode::InvalidPayload),
            1008 => Ok(CloseCode::PolicyViolation),
            1009 => Ok(CloseCode::TooBig),
            1010 => Ok(CloseCode::MandatoryExtension),
            1011 => Ok(CloseCode::InternalError),
            3000..=3999 => Ok(CloseCode::Library(code)),
            4000..=4999 => Ok(CloseCode::Private(code)),
            _ => Err(CloseError::InvalidCode(code)),
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        match code {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::Unsupported => 1003,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::MandatoryExtension => 1010,
            CloseCode::InternalError => 1011,
            CloseCode::Library(code) | CloseCode::Private(code) => code,
        }
    }
}

/// A close frame body that breaks a rule. The connection maps each to the close code it
/// answers with (`crate::transport::websocket`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseError {
    /// §5.5.1: a body must start with a 2-byte code, so a 1-byte body is malformed.
    OneByteBody,
    /// §7.4: a code that must not appear in a close frame (see the table above).
    InvalidCode(u16),
    /// §5.5.1: the reason is "UTF-8-encoded data"; §8.1: invalid UTF-8 fails the connection.
    ReasonNotUtf8,
}

impl std::fmt::Display for CloseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseError::OneByteBody => f.write_str("close frame body of 1 byte"),
            CloseError::InvalidCode(code) => write!(f, "invalid close code {code}"),
            CloseError::ReasonNotUtf8 => f.write_str("close reason is not UTF-8"),
        }
    }
}

impl std::error::Error for CloseError {}

/// Longest reason that fits a close frame: 125 payload bytes (§5.5) less the 2-byte code.
pub const MAX_REASON: usize = crate::limits::MAX_CONTROL_PAYLOAD - 2;

/// Reads a close frame's (unmasked) body: `None` for an empty body, else the code and the
/// reason (possibly empty), borrowed from `payload`.
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<(CloseCode, &str)>, CloseError> {
    match payload {
        [] => Ok(None),
        [_] => Err(CloseError::OneByteBody),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::try_from(u16::from_be_bytes([*hi, *lo]))?;
            // The reason is at most 123 bytes and complete: std's validator is the right tool
            // (ours, `wire::utf8`, exists for text messages that arrive in pieces).
            let reason = std::str::from_utf8(reason).map_err(|_| CloseError::ReasonNotUtf8)?;
            Ok(Some((code, reason)))
        }
    }
}

/// Appends a close body — the code, then `reason` cut at a character boundary to at most
/// [`MAX_REASON`] bytes so that the frame stays a legal control frame.
pub fn write_close_payload(out: &mut Vec<u8>, code: CloseCode, reason: &str) {
    out.extend_from_slice(&u16::from(code).to_be_bytes());
    let mut end = reason.len().min(MAX_REASON);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&reason.as_bytes()[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_valid_codes_round_trip() {
        // Autobahn case 7.7.x's list of valid codes.
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            assert_eq!(u16::from(CloseCode::try_from(code).unwrap()), code);
        }
    }

    #[test]
    fn test_invalid_codes() {
        // Autobahn case 7.9.x's list, 7.13.x's, and the ends of each range.
        for code in [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert_eq!(CloseCode::try_from(code), Err(CloseError::InvalidCode(code)));
        }
        let valid = (0..=u16::MAX).filter(|&c| CloseCode::try_from(c).is_ok()).count();
        assert_eq!(valid, 4 + 5 + 2000);
    }

    #[test]
    fn test_parse_payload() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
        assert_eq!(parse_close_payload(&[0x03]), Err(CloseError::OneByteBody));
        assert_eq!(parse_close_payload(&[0x03, 0xE8]), Ok(Some((CloseCode::Normal, ""))));
        assert_eq!(parse_close_payload(b"\x03\xE9bye"), Ok(Some((CloseCode::GoingAway, "bye"))));
        assert_eq!(parse_close_payload(&[0x03, 0xED]), Err(CloseError::InvalidCode(1005)));
        // Autobahn case 7.5.1's reason: valid UTF-8 up to a surrogate (ED A0 80).
        let mut bad = vec![0x03, 0xE8];
        bad.extend_from_slice(
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
        );
        assert_eq!(parse_close_payload(&bad), Err(CloseError::ReasonNotUtf8));
    }

    #[test]
    fn test_write_payload_truncates_at_char_boundary() {
        let mut out = Vec::new();
        write_close_payload(&mut out, CloseCode::Library(3001), "ok");
        assert_eq!(out, b"\x0B\xB9ok");
        // 62 two-byte characters = 124 bytes: cut to 61 characters, 122 bytes, not 123.
        let long = "é".repeat(62);
        out.clear();
        write_close_payload(&mut out, CloseCode::Normal, &long);
        assert_eq!(out.len(), 2 + 122);
        assert!(parse_close_payload(&out).is_ok());
    }
}
