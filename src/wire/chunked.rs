//! The chunked transfer coding, both directions (RFC 9112 §7.1).
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//! chunk-ext-name = token
//! chunk-ext-val  = token / quoted-string
//! trailer-section = *( field-line CRLF )
//! ```
//!
//! Interface: [`ChunkDecoder`] is a state machine that takes the body in whatever pieces the
//! socket delivers — one byte at a time, or a whole body followed by the next request — and
//! appends the chunk data to a `Vec`. [`write_chunk`], [`write_chunk_header`] and
//! [`LAST_CHUNK`] produce a chunked response body (SSE streams are written this way).
//!
//! **Line ends.** RFC 9112 §2.2 lets a recipient accept a bare LF as the end of the start-line
//! and of header fields; it says nothing of the chunked coding, whose grammar says CRLF. We
//! require CRLF everywhere here: lenient chunk-line parsing is a known request-smuggling vector
//! (a proxy and a server that split `5\n` or `5\r\r\n` differently disagree on where the body
//! ends, RFC 9112 §11.2). BWS (RFC 9110 §5.6.3) is accepted where the grammar has it, before a
//! `;` or `=`, and also just before the CRLF of a chunk-size line, where it cannot shift a
//! boundary.
#![forbid(unsafe_code)]

use crate::limits::MAX_HEAD;
use crate::wire::Status;

/// Longest chunk-ext we read on one chunk-size line. RFC 9112 §7.1.1 lets a server ignore
/// extensions but it must still read past them; "a server ought to limit the total length of
/// chunk extensions received in a request to an amount reasonable for the services provided".
/// No client of ours sends any, so 4 KiB is generous.
pub const MAX_CHUNK_EXT: usize = 4 * 1024;

/// The last-chunk and an empty trailer section: the end of every chunked body we send.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Which rule of the chunked coding a body broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// A chunk-size that is not `1*HEXDIG`, or that overflows 64 bits.
    Size,
    /// A chunk-ext that does not follow its grammar or is longer than [`MAX_CHUNK_EXT`].
    Extension,
    /// A missing CRLF after a chunk-size line, chunk data or the trailer section.
    Delimiter,
    /// A trailer field line that is not a field line, or trailers longer than [`MAX_HEAD`].
    Trailer,
    /// The body would be longer than the limit given to [`ChunkDecoder::new`].
    TooLarge,
}

impl ChunkError {
    /// A short human text naming the rule, for the response body.
    pub fn reason(self) -> &'static str {
        match self {
            ChunkError::Size => "chunk-size must be hexadecimal digits",
            ChunkError::Extension => "malformed or overlong chunk extension",
            ChunkError::Delimiter => "chunk lines and data must end in CRLF",
            ChunkError::Trailer => "malformed or overlong trailer section",
            ChunkError::TooLarge => "request body too large",
        }
    }
}

/// Where the decoder is in the grammar above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In chunk-size: `size` so far, and whether any HEXDIG came yet.
    Size { size: u64, any: bool },
    /// In the chunk-ext of a line whose chunk-size is `size`.
    Ext { ext: Ext, size: u64 },
    /// After the CR ending a chunk-size line.
    SizeLf { size: u64 },
    /// In chunk-data, `remaining` bytes to go.
    Data { remaining: u64 },
    /// After chunk-data, expecting CR.
    DataCr,
    /// After chunk-data and CR, expecting LF.
    DataLf,
    /// At the start of a trailer field line or of the final CRLF.
    TrailerLine,
    /// In a trailer field name.
    TrailerName,
    /// In a trailer field value.
    TrailerValue,
    /// After the CR ending a trailer field line.
    TrailerLf,
    /// After the CR of the final CRLF.
    EndLf,
    /// The body is over.
    Done,
    /// A rule broke; every later call reports it again.
    Failed(ChunkError),
}

/// Points in `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ext {
    /// Whitespace, expecting `;` or the CR (after the size, a value or a quoted string).
    Bws,
    /// After `;`, expecting the name.
    BeforeName,
    /// In the name.
    Name,
    /// Whitespace after the name, expecting `=`, `;` or the CR.
    AfterName,
    /// After `=`, expecting a token or a quoted-string.
    BeforeValue,
    /// In a token value.
    Token,
    /// In a quoted-string value.
    Quoted,
    /// After a backslash in a quoted-string (`quoted-pair`).
    QuotedPair,
}

/// Incremental decoder for one chunked body.
///
/// Unlike the head parser, a decoder keeps state between calls: body bytes are handed over
/// as they arrive, and a body may be far larger than any read buffer.
#[derive(Clone, Debug)]
pub struct ChunkDecoder {
    state: State,
    /// The body limit, in bytes.
    max_body: u64,
    /// Chunk data announced so far (every chunk-size accepted, summed).
    decoded: u64,
    /// Bytes of chunk-ext on the current line, or of the trailer section: both are bounded.
    run: usize,
}

impl ChunkDecoder {
    /// A decoder for a body of at most `max_body` bytes of chunk data.
    pub fn new(max_body: usize) -> Self {
        let max_body = u64::try_from(max_body).unwrap_or(u64::MAX);
        ChunkDecoder { state: State::Size { size: 0, any: false }, max_body, decoded: 0, run: 0 }
    }

    /// Decodes from `input`, appending chunk data to `body`.
    ///
    /// `Complete(n)`: the body ended (last chunk and trailer section done) after `n` bytes of
    /// `input`; the bytes after belong to the next request. `Partial`: all of `input` was
    /// consumed and the state kept: call again with the bytes that follow. After `Complete`,
    /// further calls return `Complete(0)`; after an error, the same error.
    ///
    /// `TooLarge` comes as soon as a chunk-size would take the body past the limit, before any
    /// of that chunk's data is read or stored.
    pub fn decode(&mut self, input: &[u8], body: &mut Vec<u8>) -> Result<Status<usize>, ChunkError> {
        let mut at = 0;
        loop {
            match self.state {
                State::Done => return Ok(Status::Complete(at)),
                State::Failed(error) => return Err(error),
                State::Data { remaining } if at < input.len() => {
                    // The bulk of the work: copy as much of this chunk as is here.
                    let here = &input[at..];
                    let take = usize::try_from(remaining).map_or(here.len(), |r| r.min(here.len()));
                    body.extend_from_slice(&here[..take]);
                    at += take;
                    self.state = match remaining - take as u64 {
                        0 => State::DataCr,
                        remaining => State::Data { remaining },
                    };
                    continue;
                }
                _ => {}
            }
            let Some(&b) = input.get(at) else { return Ok(Status::Partial) };
            self.state = self.step(b).unwrap_or_else(State::Failed);
            at += 1;
        }
    }

    /// The state after one byte outside chunk-data.
    fn step(&mut self, b: u8) -> Result<State, ChunkError> {
        Ok(match self.state {
            State::Size { size, any } => match hex_value(b) {
                Some(digit) => {
                    let size = size.checked_mul(16).and_then(|s| s.checked_add(digit));
                    let size = size.ok_or(ChunkError::Size)?;
                    if size > self.max_body - self.decoded {
                        return Err(ChunkError::TooLarge);
                    }
                    State::Size { size, any: true }
                }
                None if !any => return Err(ChunkError::Size),
                None if b == LF => return Err(ChunkError::Delimiter),
                None if matches!(b, CR | SP | HTAB | b';') => {
                    self.run = 0;
                    self.extension(Ext::Bws, b, size)?
                }
                None => return Err(ChunkError::Size),
            },
            State::Ext { ext, size } => self.extension(ext, b, size)?,
            State::SizeLf { size } if b == LF => {
                self.run = 0;
                self.decoded += size;
                if size == 0 {
                    State::TrailerLine
                } else {
                    State::Data { remaining: size }
                }
            }
            State::DataCr if b == CR => State::DataLf,
            State::DataLf if b == LF => State::Size { size: 0, any: false },
            State::EndLf if b == LF => State::Done,
            State::SizeLf { .. } | State::DataCr | State::DataLf | State::EndLf => {
                return Err(ChunkError::Delimiter)
            }
            // RFC 9112 §7.1.2: trailer fields are field lines (RFC 9112 §5). We check their
            // syntax and discard them: nothing here uses one.
            trailer => {
                self.run += 1;
                if self.run > MAX_HEAD {
                    return Err(ChunkError::Trailer);
                }
                match (trailer, b) {
                    (State::TrailerLine, CR) => State::EndLf,
                    (State::TrailerLine | State::TrailerName, b) if is_tchar(b) => State::TrailerName,
                    (State::TrailerName, b':') => State::TrailerValue,
                    (State::TrailerValue, CR) => State::TrailerLf,
                    (State::TrailerValue, b) if is_field_content(b) => State::TrailerValue,
                    (State::TrailerLf, LF) => State::TrailerLine,
                    _ => return Err(ChunkError::Trailer),
                }
            }
        })
    }

    /// The state after byte `b` of a chunk-ext, on a line whose chunk-size is `size`.
    fn extension(&mut self, ext: Ext, b: u8, size: u64) -> Result<State, ChunkError> {
        self.run += 1;
        if self.run > MAX_CHUNK_EXT {
            return Err(ChunkError::Extension);
        }
        let next = match (ext, b) {
            (Ext::Bws | Ext::Name | Ext::AfterName | Ext::Token, CR) => return Ok(State::SizeLf { size }),
            (_, LF) => return Err(ChunkError::Delimiter),
            (Ext::Bws | Ext::BeforeName | Ext::AfterName | Ext::BeforeValue, SP | HTAB) => ext,
            (Ext::Name, SP | HTAB) => Ext::AfterName,
            (Ext::Token, SP | HTAB) => Ext::Bws,
            (Ext::Bws | Ext::Name | Ext::AfterName | Ext::Token, b';') => Ext::BeforeName,
            (Ext::BeforeName | Ext::Name, b) if is_tchar(b) => Ext::Name,
            (Ext::Name | Ext::AfterName, b'=') => Ext::BeforeValue,
            (Ext::BeforeValue | Ext::Token, b) if is_tchar(b) => Ext::Token,
            // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
            (Ext::BeforeValue, b'"') => Ext::Quoted,
            (Ext::Quoted, b'"') => Ext::Bws,
            (Ext::Quoted, b'\\') => Ext::QuotedPair,
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            (Ext::Quoted, b) if is_field_content(b) => Ext::Quoted,
            // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            (Ext::QuotedPair, b) if is_field_content(b) => Ext::Quoted,
            _ => return Err(ChunkError::Extension),
        };
        Ok(State::Ext { ext: next, size })
    }
}

/// Appends one chunk holding `data`: `{hex len}\r\n{data}\r\n`. Empty `data` appends nothing,
/// since a chunk of size zero is the last-chunk ([`LAST_CHUNK`]).
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    write_chunk_header(out, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the chunk-size line for a chunk of `len` bytes: `{hex len}\r\n`. The caller then
/// appends the `len` data bytes and `\r\n`. For `len == 0` it appends nothing (a zero size
/// would end the body): the caller must then skip the data's `\r\n` too.
pub fn write_chunk_header(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - len.leading_zeros()).div_ceil(4);
    for digit in (0..digits).rev() {
        out.push(HEX[(len >> (4 * digit)) & 0xf]);
    }
    if digits > 0 {
        out.extend_from_slice(b"\r\n");
    }
}

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const SP: u8 = b' ';
const HTAB: u8 = b'\t';

/// `HEXDIG` (RFC 5234 B.1, case-insensitive) as its value.
fn hex_value(b: u8) -> Option<u64> {
    char::from(b).to_digit(16).map(u64::from)
}

fn is_tchar(b: u8) -> bool {
    crate::wire::request::is_tchar(b)
}

/// `field-content` bytes: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5).
fn is_field_content(b: u8) -> bool {
    b == HTAB || (b >= SP && b != 0x7f)
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
