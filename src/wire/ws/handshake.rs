//! The key exchange of the opening handshake (RFC 6455 §4.2.1 item 5, §4.2.2 item 5.4).
//!
//! The client sends a random 16-byte nonce, base64-encoded, in `Sec-WebSocket-Key`; the
//! server proves it read the request as a WebSocket handshake by answering with
//! `Sec-WebSocket-Accept: base64(SHA-1(key ++ GUID))`. It proves nothing about security —
//! it only keeps a non-WebSocket server from accepting by accident.
//!
//! The rest of the handshake (method, `Upgrade`, `Connection`, version, `Origin`) is HTTP
//! and is checked where the request head is.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// §1.3/§4.2.2: the "globally unique identifier" appended to the key before hashing.
pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of the nonce the key encodes: "a randomly selected 16-byte value" (§4.2.1).
pub const KEY_NONCE_LEN: usize = 16;

/// The `Sec-WebSocket-Accept` value for `key`, the `Sec-WebSocket-Key` field value as
/// received (surrounding whitespace already trimmed by the header parser): §4.2.2 item 5.4,
/// "concatenate … with the string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" …, take the SHA-1
/// hash of this concatenated value to obtain a 20-byte value and base64-encode".
///
/// The key is hashed as the client sent it, not decoded: §4.2.2 says to use the key
/// "as received … not the base64-decoded value".
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    STANDARD.encode(sha1.finalize())
}

/// §4.2.1 item 5: "a |Sec-WebSocket-Key| header field with a base64-encoded value that,
/// when decoded, is 16 bytes in length". The standard alphabet with its padding is required
/// (`=` included, no stray bits), so a valid key is exactly 24 characters.
pub fn key_is_valid(key: &[u8]) -> bool {
    // 16 bytes encode to 24 characters; checking first keeps a hostile header from making
    // us decode (and allocate for) something long.
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|nonce| nonce.len() == KEY_NONCE_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_rfc_example() {
        // RFC 6455 §1.3: "the server would append the string "258EAFA5-E914-47DA-95CA-
        // C5AB0DC85B11" … the base64-encoded value "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
        assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn test_key_validity() {
        assert!(key_is_valid(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(key_is_valid(b"AAAAAAAAAAAAAAAAAAAAAA=="));
        // 15 and 17 bytes, missing padding, a bad character, stray low bits, whitespace.
        for bad in [
            &b"dGhlIHNhbXBsZSBub25j"[..],
            b"dGhlIHNhbXBsZSBub25jZQ==QQ==",
            b"dGhlIHNhbXBsZSBub25jZQ",
            b"dGhlIHNhbXBsZSBub25jZ!==",
            b"dGhlIHNhbXBsZSBub25jZR==",
            b" dGhlIHNhbXBsZSBub25jZQ=",
            b"",
        ] {
            assert!(!key_is_valid(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
