//! `Sec-WebSocket-Extensions` (RFC 6455 §9.1) and the permessage-deflate negotiation
//! (RFC 7692 §5, §7.1): which offer a server takes, with which parameters, and what it
//! answers.
//!
//! A client lists extensions it would like, most preferred first, each with parameters;
//! several *offers* of the same extension are alternatives (RFC 7692 §5: "permessage-deflate;
//! client_max_window_bits; server_max_window_bits=10, permessage-deflate" — "this, or
//! failing that, the plain one"). The server accepts at most one offer per extension and
//! answers with the parameters in force; an offer it cannot honour it *declines*, silently,
//! by not answering it. No offer accepted: no compression, and the handshake goes on.
//!
//! The grammar (RFC 6455 §9.1; `token` and `quoted-string` from RFC 9110 §5.6.2, §5.6.4):
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-token = registered-token
//! registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; When using the quoted-string syntax variant, the value
//!     ; after quoted-string unescaping MUST conform to the
//!     ; 'token' ABNF.
//! ```
//!
//! [`parse`] reads the offers from every field line; [`negotiate_deflate`] picks the first
//! permessage-deflate offer we can honour under our [`DeflateConfig`]; and
//! [`DeflateParams::response`] is the header value to send back. All pure functions.
//!
//! pushlab asks for `server_no_context_takeover` whether or not it is offered (RFC 7692
//! §7.1.1.1 allows that): then each message is compressed alone, so one compressed frame can
//! go to every subscriber of a topic, and the deflater's window lives only while it codes.

use crate::wire::deflate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::wire::request::is_tchar;

/// The extension this module negotiates (RFC 7692 §7).
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// One offer: an extension token and its parameters, in order. Names are as sent;
/// [`negotiate_deflate`] compares them ignoring ASCII case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub params: Vec<Param>,
}

/// `token [ "=" ( token / quoted-string ) ]`, the value unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// Which rule of RFC 6455 §9.1's grammar a header value broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionsError {
    /// An extension or parameter name (or unquoted value) is missing or not a `token`.
    ExpectedToken,
    /// A quoted-string without its closing `"`, or with a byte it may not hold.
    BadQuotedString,
    /// A quoted value that, unescaped, is not a `token`.
    QuotedValueNotToken,
    /// Something other than `;`, `,` or the end after an extension or parameter.
    ExpectedSeparator,
}

impl ExtensionsError {
    /// A short human text naming the rule.
    pub fn reason(self) -> &'static str {
        match self {
            ExtensionsError::ExpectedToken => "extension and parameter names must be tokens",
            ExtensionsError::BadQuotedString => "malformed quoted-string",
            ExtensionsError::QuotedValueNotToken => "a quoted parameter value must be a token",
            ExtensionsError::ExpectedSeparator => "expected ';' or ',' between extension items",
        }
    }
}

/// Every offer in the field lines `values` (one `Sec-WebSocket-Extensions` line each), in
/// order. Empty list members are skipped (RFC 9110 §5.6.1), OWS allowed around `,`, `;`
/// and `=`.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<Extension>, ExtensionsError> {
    let mut offers = Vec::new();
    for value in values {
        let mut cursor = Cursor { bytes: value, at: 0 };
        loop {
            cursor.skip_ows();
            match cursor.peek() {
                None => break,
                Some(b',') => {
                    cursor.at += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = cursor.token()?;
            let mut params = Vec::new();
            loop {
                cursor.skip_ows();
                match cursor.peek() {
                    None => break,
                    Some(b',') => {
                        cursor.at += 1;
                        break;
                    }
                    Some(b';') => {
                        cursor.at += 1;
                        cursor.skip_ows();
                        let name = cursor.token()?;
                        cursor.skip_ows();
                        let value = if cursor.peek() == Some(b'=') {
                            cursor.at += 1;
                            cursor.skip_ows();
                            Some(if cursor.peek() == Some(b'"') {
                                cursor.quoted_token()?
                            } else {
                                cursor.token()?
                            })
                        } else {
                            None
                        };
                        params.push(Param { name, value });
                    }
                    Some(_) => return Err(ExtensionsError::ExpectedSeparator),
                }
            }
            offers.push(Extension { name, params });
        }
    }
    Ok(offers)
}

/// A position in one field value.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// OWS = *( SP / HTAB ) (RFC 9110 §5.6.3).
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// token = 1*tchar (RFC 9110 §5.6.2).
    fn token(&mut self) -> Result<String, ExtensionsError> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(ExtensionsError::ExpectedToken);
        }
        // tchar is ASCII, so this is UTF-8.
        Ok(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    /// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4),
    /// unescaped, which RFC 6455 §9.1 requires to be a token.
    fn quoted_token(&mut self) -> Result<String, ExtensionsError> {
        self.at += 1;
        let mut value = Vec::new();
        loop {
            let byte = self.peek().ok_or(ExtensionsError::BadQuotedString)?;
            self.at += 1;
            match byte {
                b'"' => break,
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                b'\\' => {
                    let escaped = self.peek().ok_or(ExtensionsError::BadQuotedString)?;
                    if !is_qdtext(escaped) && escaped != b'"' && escaped != b'\\' {
                        return Err(ExtensionsError::BadQuotedString);
                    }
                    value.push(escaped);
                    self.at += 1;
                }
                b if is_qdtext(b) => value.push(b),
                _ => return Err(ExtensionsError::BadQuotedString),
            }
        }
        if value.is_empty() || !value.iter().all(|&b| is_tchar(b)) {
            return Err(ExtensionsError::QuotedValueNotToken);
        }
        Ok(String::from_utf8_lossy(&value).into_owned())
    }
}

/// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4).
fn is_qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E | 0x80..=0xFF)
}

/// What we ask for and allow, whatever the client offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Always answer `server_no_context_takeover` (RFC 7692 §7.1.1.1): each message we
    /// send is compressed alone. pushlab: yes, so subscribers can share one frame.
    pub server_no_context_takeover: bool,
    /// Always answer `client_no_context_takeover` (§7.1.1.2): the client compresses each
    /// message alone, and our inflater keeps no window between messages.
    pub client_no_context_takeover: bool,
    /// The largest client window we want to keep, 9..=15; answered as
    /// `client_max_window_bits` when the client offered that parameter (§7.1.2.2).
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    /// pushlab's: shared frames out, the client's choice in.
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

/// The parameters in force once an offer is accepted (RFC 7692 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// We compress each message alone ([`crate::wire::deflate::Deflater::reset`] between).
    pub server_no_context_takeover: bool,
    /// The client compresses each message alone: reset our inflater between messages.
    pub client_no_context_takeover: bool,
    /// Our deflater's window, 9..=15 ([`crate::wire::deflate::Deflater::new`]).
    pub server_max_window_bits: u8,
    /// The client's window, 8..=15; inflate with [`DeflateParams::inflate_window_bits`].
    pub client_max_window_bits: u8,
    /// Whether the answer carries `server_max_window_bits` (it must when it was offered).
    answer_server_bits: bool,
    /// Whether the answer carries `client_max_window_bits`.
    answer_client_bits: bool,
}

impl DeflateParams {
    /// The window our inflater needs: the client's, but at least 9 bits — a 9-bit window
    /// reads everything an 8-bit one can (zlib makes the same substitution).
    pub fn inflate_window_bits(&self) -> u8 {
        self.client_max_window_bits.max(MIN_WINDOW_BITS)
    }

    /// The `Sec-WebSocket-Extensions` value of the response (RFC 7692 §7.1): the extension
    /// and the parameters in force.
    pub fn response(&self) -> String {
        let mut out = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            out.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            out.push_str("; client_no_context_takeover");
        }
        if self.answer_server_bits {
            out.push_str(&format!("; server_max_window_bits={}", self.server_max_window_bits));
        }
        if self.answer_client_bits {
            out.push_str(&format!("; client_max_window_bits={}", self.client_max_window_bits));
        }
        out
    }
}

/// The first permessage-deflate offer in `offers` we can honour, as the parameters in
/// force, or `None` (then the connection runs uncompressed). An offer is declined when
/// RFC 7692 §7.1 says a server must: an unknown parameter, a repeated one, an invalid value
/// — or when we cannot do what it asks (`server_max_window_bits=8`: our deflater's smallest
/// window is 9 bits, and §7.1.2.1 forbids answering a larger value than offered).
pub fn negotiate_deflate(offers: &[Extension], config: &DeflateConfig) -> Option<DeflateParams> {
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
        .find_map(|offer| accept_offer(offer, config))
}

/// [`parse`], then [`negotiate_deflate`]; a header that does not parse offers nothing.
pub fn accept_deflate<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    config: &DeflateConfig,
) -> Option<DeflateParams> {
    negotiate_deflate(&parse(values).ok()?, config)
}

/// One offer, checked parameter by parameter (RFC 7692 §7.1).
fn accept_offer(offer: &Extension, config: &DeflateConfig) -> Option<DeflateParams> {
    let mut seen = [false; 4];
    let mut server_no_context_takeover = false;
    let mut client_no_context_takeover = false;
    let mut server_bits = None;
    // None: not offered; Some(None): offered without a value; Some(Some(n)): with n.
    let mut client_bits: Option<Option<u8>> = None;
    for param in &offer.params {
        let name = param.name.to_ascii_lowercase();
        let (index, value) = (
            [
                "server_no_context_takeover",
                "client_no_context_takeover",
                "server_max_window_bits",
                "client_max_window_bits",
            ]
            .iter()
            .position(|known| *known == name)?,
            param.value.as_deref(),
        );
        // §7.1: "multiple extension parameters with the same name" — decline.
        if std::mem::replace(&mut seen[index], true) {
            return None;
        }
        match (index, value) {
            // §7.1.1.1, §7.1.1.2: these have no value.
            (0, None) => server_no_context_takeover = true,
            (1, None) => client_no_context_takeover = true,
            // §7.1.2.1: a value is required.
            (2, Some(v)) => server_bits = Some(window_bits(v)?),
            // §7.1.2.2: the value is optional.
            (3, None) => client_bits = Some(None),
            (3, Some(v)) => client_bits = Some(Some(window_bits(v)?)),
            _ => return None,
        }
    }
    // We compress with at least 9 bits and may not answer more than was offered.
    if server_bits.is_some_and(|bits| bits < MIN_WINDOW_BITS) {
        return None;
    }
    let wanted = config.client_max_window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
    let (client_max_window_bits, answer_client_bits) = match client_bits {
        // Not offered: the client may not understand the parameter, so it uses up to 15.
        None => (MAX_WINDOW_BITS, false),
        // Offered bare: any value 8..=15 may be answered; answer ours if it is smaller.
        Some(None) => (wanted, wanted < MAX_WINDOW_BITS),
        // Offered with a value: the client stays within it anyway; we may answer a value
        // no larger (§7.1.2.2), and do when ours is smaller.
        Some(Some(offered)) if wanted < offered => (wanted, true),
        Some(Some(offered)) => (offered, false),
    };
    Some(DeflateParams {
        server_no_context_takeover: server_no_context_takeover || config.server_no_context_takeover,
        client_no_context_takeover: client_no_context_takeover || config.client_no_context_takeover,
        server_max_window_bits: server_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits,
        answer_server_bits: server_bits.is_some(),
        answer_client_bits,
    })
}

/// RFC 7692 §7.1.2.1: "a decimal integer value without leading zeros between 8 to 15,
/// inclusive".
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

#[cfg(test)]
#[path = "extensions_tests.rs"]
mod tests;
