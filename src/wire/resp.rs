//! RESP2, the Redis serialization protocol: replies in, commands out.
//!
//! Heads up! Before working on this file, read the Redis serialization protocol
//! specification (redis.io, "Redis serialization protocol specification"), its sections
//! "RESP protocol description", "Simple strings" … "Null arrays", and "Sending commands to a
//! Redis server". Code below cites those sections as `RESP §Name`.
//!
//! ```text
//! value         = simple-string / simple-error / integer / bulk-string / array
//! simple-string = "+" *( any byte but CR, LF ) CRLF            ; RESP §Simple strings
//! simple-error  = "-" *( any byte but CR, LF ) CRLF            ; RESP §Simple errors
//! integer       = ":" [ "+" / "-" ] 1*DIGIT CRLF                ; RESP §Integers, signed 64 bits
//! bulk-string   = "$" length CRLF <length bytes> CRLF          ; RESP §Bulk strings
//!               / "$-1" CRLF                                    ; RESP §Null bulk strings
//! array         = "*" length CRLF <length values>               ; RESP §Arrays
//!               / "*-1" CRLF                                    ; RESP §Null arrays
//! length        = 1*DIGIT
//! ```
//!
//! The first byte names the type. A client sends every command as an array of bulk strings
//! (RESP §Sending commands: `*2\r\n$4\r\nLLEN\r\n$6\r\nmylist\r\n`) and may pipeline many
//! before reading a reply; replies come back in order. We speak RESP2 only: we never send
//! `HELLO 3`, so Redis never sends RESP3's types (`_`, `,`, `#`, `%`, `~`, `>` …), and any
//! of them is [`RespError::Type`].
//!
//! Interface: [`parse`] reads one value from the start of a buffer in two passes, the shape
//! of mini-redis's `Frame::check`/`Frame::parse`: [`check`] walks the bytes without
//! allocating and answers [`Status::Partial`] until the whole value is there (skipping a
//! bulk string's payload by its length, so a re-check after each read costs one step per
//! *element*, not per byte); only then is the [`Value`] built. So nothing is allocated for a
//! claimed length before its bytes arrived, and a partial reply costs no work beyond the
//! check. On `Partial` nothing is consumed; on any input the parser returns, never panics.
//! [`encode_command`] writes a command; [`Value::encode`] writes any value (the tests and the
//! fuzz target re-parse what it writes).
//!
//! **Limits.** A peer (or a man in the middle, or a port that is not Redis at all) could
//! claim a 2⁶³-byte bulk string, a billion-element array or arrays nested until the stack
//! ends. Each claim is checked against [`MAX_BULK`], [`MAX_ARRAY`], [`MAX_DEPTH`] and
//! [`MAX_LINE`] as soon as its header is read, and fails with the error naming that limit.
#![forbid(unsafe_code)]

use crate::wire::Status;

/// Longest bulk string we accept. Redis's own default is 512 MB (`proto-max-bulk-len`); ours
/// carry one message's data (at most 64 KiB, SPEC §3) or a script, so 1 MiB is generous.
pub const MAX_BULK: usize = 1024 * 1024;
/// Most elements in one array: a history reply holds one per message, at most `--replay`.
pub const MAX_ARRAY: usize = 1 << 20;
/// Deepest nesting of arrays: our deepest reply (a history: reply → entries → entry →
/// fields) is 4 deep.
pub const MAX_DEPTH: usize = 8;
/// Longest simple string, simple error or number line, CRLF excluded.
pub const MAX_LINE: usize = 64 * 1024;

/// One RESP2 value, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK\r\n`: a short, non-binary string (RESP §Simple strings).
    Simple(Vec<u8>),
    /// `-ERR unknown command 'asdf'\r\n`: the error's text, code first (RESP §Simple errors).
    Error(Vec<u8>),
    /// `:1000\r\n`: a signed 64-bit integer (RESP §Integers).
    Integer(i64),
    /// `$5\r\nhello\r\n`, or `None` for the null bulk string `$-1\r\n` (RESP §Bulk strings).
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n…`, or `None` for the null array `*-1\r\n` (RESP §Arrays).
    Array(Option<Vec<Value>>),
}

/// Which rule of RESP2 (or which of our limits) a reply broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RespError {
    /// The first byte of a value is not `+`, `-`, `:`, `$` or `*` (RESP §RESP protocol
    /// description: the first byte names the type).
    Type,
    /// A bulk-string or array length that is not `1*DIGIT` or `-1`, or overflows 64 bits.
    Length,
    /// A negative length other than `-1`, the only one RESP2 gives a meaning (null).
    NegativeLength,
    /// An integer that is not `[+|-]1*DIGIT`, or does not fit in 64 signed bits.
    Integer,
    /// A line or a bulk string's data not ended by CRLF, or a CR or LF inside a simple line.
    Delimiter,
    /// A simple string, error or number line longer than [`MAX_LINE`].
    LineTooLong,
    /// A bulk string longer than [`MAX_BULK`].
    BulkTooLong,
    /// An array longer than [`MAX_ARRAY`].
    ArrayTooLong,
    /// Arrays nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl RespError {
    /// A short human text naming the rule.
    pub fn reason(self) -> &'static str {
        match self {
            RespError::Type => "a RESP value must start with one of + - : $ *",
            RespError::Length => "a RESP length must be decimal digits or -1",
            RespError::NegativeLength => "a RESP length may be -1 (null) but no other negative number",
            RespError::Integer => "a RESP integer must be an optional sign and digits within 64 bits",
            RespError::Delimiter => "RESP lines and bulk data must end in CRLF",
            RespError::LineTooLong => "RESP line too long",
            RespError::BulkTooLong => "RESP bulk string too long",
            RespError::ArrayTooLong => "RESP array too long",
            RespError::TooDeep => "RESP arrays nested too deep",
        }
    }
}

/// The type bytes (RESP §RESP protocol description).
mod prefix {
    pub const SIMPLE: u8 = b'+';
    pub const ERROR: u8 = b'-';
    pub const INTEGER: u8 = b':';
    pub const BULK: u8 = b'$';
    pub const ARRAY: u8 = b'*';
}

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const CRLF: &[u8] = b"\r\n";

/// Parses one value from the start of `buf`.
///
/// `Complete((value, len))`: the first `len` bytes are the value; the next reply (pipelined
/// replies follow each other with no separator) starts at `buf[len]`. `Partial`: `buf` is a
/// prefix of a value that may still turn out valid; nothing was consumed. An error is
/// reported as soon as the bytes show it, and appending bytes never changes it.
pub fn parse(buf: &[u8]) -> Result<Status<(Value, usize)>, RespError> {
    match check(buf)? {
        Status::Partial => Ok(Status::Partial),
        Status::Complete(len) => {
            let (value, end) = build(buf, 0)?;
            debug_assert_eq!(end, len, "check and build agree on where the value ends");
            Ok(Status::Complete((value, end)))
        }
    }
}

/// The first pass: `Complete(len)` when `buf` starts with one whole value of `len` bytes,
/// without building it. Allocates nothing.
pub fn check(buf: &[u8]) -> Result<Status<usize>, RespError> {
    // An explicit stack of "elements still to come" per open array, so depth is bounded by
    // MAX_DEPTH without recursion.
    let mut open = [0usize; MAX_DEPTH];
    let mut depth = 0;
    let mut at = 0;
    loop {
        let Some(&kind) = buf.get(at) else { return Ok(Status::Partial) };
        let end = match kind {
            prefix::SIMPLE | prefix::ERROR => match line(buf, at + 1)? {
                Status::Partial => return Ok(Status::Partial),
                Status::Complete((_, end)) => end,
            },
            prefix::INTEGER => match integer_line(buf, at + 1)? {
                Status::Partial => return Ok(Status::Partial),
                Status::Complete((_, end)) => end,
            },
            prefix::BULK => match length_line(buf, at + 1, MAX_BULK, RespError::BulkTooLong)? {
                Status::Partial => return Ok(Status::Partial),
                Status::Complete((None, end)) => end,
                Status::Complete((Some(len), end)) => {
                    // RESP §Bulk strings: the data, then a final CRLF.
                    match buf.get(end..end + len + CRLF.len()) {
                        None => {
                            // A wrong byte where the CRLF goes shows already; check it now,
                            // so garbage fails without waiting for a length's worth of it.
                            let tail = buf.get(end + len..).unwrap_or(&[]);
                            if !CRLF.starts_with(&tail[..tail.len().min(CRLF.len())]) {
                                return Err(RespError::Delimiter);
                            }
                            return Ok(Status::Partial);
                        }
                        Some(data) if data.ends_with(CRLF) => end + len + CRLF.len(),
                        Some(_) => return Err(RespError::Delimiter),
                    }
                }
            },
            prefix::ARRAY => match length_line(buf, at + 1, MAX_ARRAY, RespError::ArrayTooLong)? {
                Status::Partial => return Ok(Status::Partial),
                Status::Complete((Some(n), end)) if n > 0 => {
                    if depth == MAX_DEPTH {
                        return Err(RespError::TooDeep);
                    }
                    open[depth] = n;
                    depth += 1;
                    at = end;
                    continue;
                }
                // `*0` and `*-1` are complete values in themselves.
                Status::Complete((_, end)) => end,
            },
            _ => return Err(RespError::Type),
        };
        at = end;
        // One value ended: it fills a slot of the innermost open array, which may end it
        // too, and so on outwards.
        loop {
            if depth == 0 {
                return Ok(Status::Complete(at));
            }
            open[depth - 1] -= 1;
            if open[depth - 1] > 0 {
                break;
            }
            depth -= 1;
        }
    }
}

/// The second pass: builds the value that starts at `buf[at]`, which [`check`] found whole.
/// It checks every rule again (an error here would mean the passes disagree, and is still
/// an error, not a panic) and never reserves more elements than the bytes can hold.
fn build(buf: &[u8], at: usize) -> Result<(Value, usize), RespError> {
    let kind = *buf.get(at).ok_or(RespError::Delimiter)?;
    match kind {
        prefix::SIMPLE | prefix::ERROR => {
            let (text, end) = complete(line(buf, at + 1)?)?;
            let text = text.to_vec();
            Ok((if kind == prefix::SIMPLE { Value::Simple(text) } else { Value::Error(text) }, end))
        }
        prefix::INTEGER => {
            let (n, end) = complete(integer_line(buf, at + 1)?)?;
            Ok((Value::Integer(n), end))
        }
        prefix::BULK => match complete(length_line(buf, at + 1, MAX_BULK, RespError::BulkTooLong)?)? {
            (None, end) => Ok((Value::Bulk(None), end)),
            (Some(len), end) => {
                let data = buf.get(end..end + len).ok_or(RespError::Delimiter)?;
                Ok((Value::Bulk(Some(data.to_vec())), end + len + CRLF.len()))
            }
        },
        prefix::ARRAY => match complete(length_line(buf, at + 1, MAX_ARRAY, RespError::ArrayTooLong)?)? {
            (None, end) => Ok((Value::Array(None), end)),
            (Some(n), mut end) => {
                // Every element takes at least 3 bytes (`:0` is 4 with its CRLF).
                let mut items = Vec::with_capacity(n.min(buf.len().saturating_sub(end) / 3));
                for _ in 0..n {
                    let (item, next) = build(buf, end)?;
                    items.push(item);
                    end = next;
                }
                Ok((Value::Array(Some(items)), end))
            }
        },
        _ => Err(RespError::Type),
    }
}

/// The item of a `Complete`; in [`build`], a `Partial` means the passes disagree.
fn complete<T>(status: Status<T>) -> Result<T, RespError> {
    match status {
        Status::Complete(item) => Ok(item),
        Status::Partial => Err(RespError::Delimiter),
    }
}

/// The text of a simple string or error starting at `buf[at]` (after its type byte) and
/// the index after its CRLF. RESP §Simple strings: "cannot contain a CR or LF character".
fn line(buf: &[u8], at: usize) -> Result<Status<(&[u8], usize)>, RespError> {
    let rest = buf.get(at..).unwrap_or(&[]);
    match rest.iter().position(|&b| b == CR || b == LF) {
        Some(i) if i > MAX_LINE => Err(RespError::LineTooLong),
        Some(i) if rest[i] == LF => Err(RespError::Delimiter),
        Some(i) => match rest.get(i + 1) {
            None => Ok(Status::Partial),
            Some(&LF) => Ok(Status::Complete((&rest[..i], at + i + CRLF.len()))),
            Some(_) => Err(RespError::Delimiter),
        },
        None if rest.len() > MAX_LINE => Err(RespError::LineTooLong),
        None => Ok(Status::Partial),
    }
}

/// A decimal number line starting at `buf[at]`: `[sign] 1*DIGIT CRLF`, read byte by byte so
/// that garbage fails at its first wrong byte. `signs` lists the signs allowed first.
/// `overflow` is the error for a number beyond `i64`, `malformed` for anything else.
fn number_line(
    buf: &[u8],
    at: usize,
    signs: &[u8],
    malformed: RespError,
    overflow: RespError,
) -> Result<Status<(i64, usize)>, RespError> {
    let mut i = at;
    let negative = match buf.get(i) {
        None => return Ok(Status::Partial),
        Some(&sign) if signs.contains(&sign) => {
            i += 1;
            sign == b'-'
        }
        Some(_) => false,
    };
    // Accumulated towards the sign, so i64::MIN (whose magnitude i64 cannot hold) parses.
    let mut n: i64 = 0;
    let digits_from = i;
    loop {
        let Some(&b) = buf.get(i) else { return Ok(Status::Partial) };
        match b {
            b'0'..=b'9' => {
                let digit = i64::from(b - b'0');
                let next = n.checked_mul(10).and_then(|n| {
                    if negative {
                        n.checked_sub(digit)
                    } else {
                        n.checked_add(digit)
                    }
                });
                n = next.ok_or(overflow)?;
            }
            CR if i > digits_from => {
                return match buf.get(i + 1) {
                    None => Ok(Status::Partial),
                    Some(&LF) => Ok(Status::Complete((n, i + CRLF.len()))),
                    Some(_) => Err(RespError::Delimiter),
                };
            }
            _ => return Err(malformed),
        }
        i += 1;
    }
}

/// An integer line (RESP §Integers: "an optional plus (+) or minus (-) as the sign").
fn integer_line(buf: &[u8], at: usize) -> Result<Status<(i64, usize)>, RespError> {
    number_line(buf, at, b"+-", RespError::Integer, RespError::Integer)
}

/// A bulk-string or array length line: `None` for `-1` (null), else a length of at most
/// `max` (else `too_long`).
fn length_line(
    buf: &[u8],
    at: usize,
    max: usize,
    too_long: RespError,
) -> Result<Status<(Option<usize>, usize)>, RespError> {
    // After `-`, any digits but a lone `1` can never become `-1`: say so at once.
    if buf.get(at) == Some(&b'-') {
        let after = buf.get(at + 1..).unwrap_or(&[]);
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 1 || (digits == 1 && after[0] != b'1') {
            return Err(RespError::NegativeLength);
        }
    }
    Ok(match number_line(buf, at, b"-", RespError::Length, RespError::Length)? {
        Status::Partial => Status::Partial,
        Status::Complete((-1, end)) => Status::Complete((None, end)),
        Status::Complete((n, _)) if n < 0 => return Err(RespError::NegativeLength),
        Status::Complete((n, end)) => match usize::try_from(n) {
            Ok(n) if n <= max => Status::Complete((Some(n), end)),
            _ => return Err(too_long),
        },
    })
}

/// Appends `args` as one command: an array of bulk strings (RESP §Sending commands).
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    encode_header(out, prefix::ARRAY, args.len());
    for arg in args {
        encode_bulk(out, arg);
    }
}

/// Appends the header of an array of `len` elements, for a command written piece by piece
/// with [`encode_bulk`].
pub fn encode_array_header(out: &mut Vec<u8>, len: usize) {
    encode_header(out, prefix::ARRAY, len);
}

/// Appends one bulk string: `$len\r\ndata\r\n`.
pub fn encode_bulk(out: &mut Vec<u8>, data: &[u8]) {
    encode_header(out, prefix::BULK, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(CRLF);
}

/// Appends `kind`, `n` in decimal and CRLF.
fn encode_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.push(kind);
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(CRLF);
}

impl Value {
    /// Appends the value's encoding. A simple string or error holding CR or LF cannot be
    /// written as one (RESP §Simple strings); it is not ours to fix, and comes out as is.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(text) | Value::Error(text) => {
                out.push(if matches!(self, Value::Simple(_)) { prefix::SIMPLE } else { prefix::ERROR });
                out.extend_from_slice(text);
                out.extend_from_slice(CRLF);
            }
            Value::Integer(n) => {
                out.push(prefix::INTEGER);
                out.extend_from_slice(n.to_string().as_bytes());
                out.extend_from_slice(CRLF);
            }
            Value::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Value::Bulk(Some(data)) => encode_bulk(out, data),
            Value::Array(None) => out.extend_from_slice(b"*-1\r\n"),
            Value::Array(Some(items)) => {
                encode_header(out, prefix::ARRAY, items.len());
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    /// The bytes of a bulk or simple string, if it is one (and not null).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Simple(bytes) | Value::Bulk(Some(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The elements of an array, if it is one (and not null).
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(Some(items)) => Some(items),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "resp_tests.rs"]
mod tests;
