//! pushlab's two Lua scripts, the arguments they take, the replies they give, and the
//! announcement the publish script sends.
//!
//! Every step that must be atomic is one script (Redis runs a script to its end before any
//! other command, "Scripting with Lua", EVAL): `publish.lua` numbers a message with
//! `HINCRBY`, stores it with `XADD … MAXLEN` and announces it with `PUBLISH`, so an id is
//! never stored without being announced, nor given twice, whichever node asked;
//! `history.lua` reads a topic's last id and epoch together with its entries after a
//! cursor, so a node catching up learns all three from one moment of the topic.
//!
//! **Sending a script.** `EVALSHA sha1 numkeys key… arg…` runs a script Redis has cached
//! under the SHA-1 of its text; a Redis that has not seen it (restarted, `SCRIPT FLUSH`,
//! a fresh replica) answers `-NOSCRIPT`, and the client sends `EVAL script numkeys …`,
//! which runs it and caches it. The SHA-1 is computed here from the exact bytes sent
//! ([`Script::sha1`]), lowercase hex, as `SCRIPT LOAD` returns it.
//!
//! **The epoch.** Each topic's meta hash holds an epoch, set with `HSETNX` from a fresh
//! candidate the node passes ([`new_epoch`]) when the topic has none: when it is created, or
//! when Redis lost it (restarted empty, evicted it). Ids restart at 1 under a new epoch, so
//! a node or a client that sees the epoch change knows the history it had is gone rather
//! than being silently renumbered under it (SPEC §10).
//!
//! **The announcement** ([`Payload`]) carries the id inside it, as Centrifugo's engine does,
//! so a subscriber can check order and gaps without another round trip:
//!
//! ```text
//! payload = epoch SP id SP time LF data      ; id, time: 1*DIGIT; data: any bytes, to the end
//! epoch   = 1*64( %x21-7E )                  ; visible ASCII, no space
//! ```
#![forbid(unsafe_code)]

use sha1::{Digest, Sha1};

use crate::redis::keys;
use crate::wire::resp::{encode_bulk, Value};

/// One Lua script: its text and the SHA-1 Redis caches it under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Script {
    /// The file name, for logs.
    pub name: &'static str,
    /// The exact text sent with `EVAL` (and hashed for `EVALSHA`).
    pub source: &'static str,
}

/// `publish.lua`: KEYS meta, stream; ARGV data, time, maxlen, epoch, channel → `{id, epoch}`.
pub const PUBLISH: Script = Script { name: "publish.lua", source: include_str!("publish.lua") };

/// `history.lua`: KEYS meta, stream; ARGV after, count, epoch → `{last_id, epoch, entries}`.
pub const HISTORY: Script = Script { name: "history.lua", source: include_str!("history.lua") };

impl Script {
    /// The SHA-1 of the source in lowercase hex: the name `EVALSHA` takes.
    pub fn sha1(&self) -> String {
        sha1_hex(self.source.as_bytes())
    }
}

/// SHA-1 of `bytes`, 40 lowercase hex digits.
pub fn sha1_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha1::digest(bytes);
    let mut hex = String::with_capacity(40);
    for b in digest.iter() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    hex
}

/// A fresh epoch candidate: the time in hexadecimal, `-`, a per-node salt in hexadecimal.
/// Two candidates differ when made at different milliseconds or by nodes with different
/// salts, which is all an epoch needs: to differ from the one before it.
pub fn new_epoch(time_ms: u64, salt: u64) -> String {
    format!("{time_ms:x}-{salt:x}")
}

/// Whether `epoch` fits the announcement's grammar: 1 to 64 visible ASCII bytes, no space.
pub fn valid_epoch(epoch: &[u8]) -> bool {
    (1..=64).contains(&epoch.len()) && epoch.iter().all(|b| b.is_ascii_graphic())
}

/// The tail of an `EVALSHA`/`EVAL` for `publish.lua` — `numkeys key… arg…` as bulk strings —
/// and how many arguments it holds. The head (`EVALSHA sha` or `EVAL source`) is the
/// client's, so a `NOSCRIPT` resend reuses the tail as it is.
pub fn publish_args(
    topic: &str,
    data: &[u8],
    time_ms: u64,
    maxlen: u64,
    epoch: &str,
    db: u32,
) -> (Vec<u8>, usize) {
    let mut tail = Vec::with_capacity(data.len() + 4 * topic.len() + 96);
    for arg in [
        b"2".as_slice(),
        keys::meta(topic).as_bytes(),
        keys::stream(topic).as_bytes(),
        data,
        time_ms.to_string().as_bytes(),
        maxlen.to_string().as_bytes(),
        epoch.as_bytes(),
        keys::channel(topic, db).as_bytes(),
    ] {
        encode_bulk(&mut tail, arg);
    }
    (tail, 8)
}

/// The tail for `history.lua` (see [`publish_args`]).
pub fn history_args(topic: &str, after: u64, count: u64, epoch: &str) -> (Vec<u8>, usize) {
    let mut tail = Vec::with_capacity(4 * topic.len() + 96);
    for arg in [
        b"2".as_slice(),
        keys::meta(topic).as_bytes(),
        keys::stream(topic).as_bytes(),
        after.to_string().as_bytes(),
        count.to_string().as_bytes(),
        epoch.as_bytes(),
    ] {
        encode_bulk(&mut tail, arg);
    }
    (tail, 6)
}

/// One stored message, as `history.lua` returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    /// Publish time, Unix milliseconds.
    pub time_ms: u64,
    pub data: Vec<u8>,
}

/// What `history.lua` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// The topic's last id (0: never published in this epoch).
    pub last_id: u64,
    pub epoch: Box<str>,
    /// The entries after the cursor, oldest first, at most `count`.
    pub entries: Vec<Entry>,
}

/// `publish.lua`'s reply `*2 :id $epoch` as `(id, epoch)`; `None` for any other shape.
pub fn decode_published(reply: &Value) -> Option<(u64, Box<str>)> {
    match reply.as_array()? {
        [Value::Integer(id), epoch] => Some((u64::try_from(*id).ok()?, epoch_of(epoch)?)),
        _ => None,
    }
}

/// `history.lua`'s reply `*3 :last $epoch *entries`; `None` for any other shape.
pub fn decode_history(reply: &Value) -> Option<History> {
    let [Value::Integer(last), epoch, entries] = reply.as_array()? else { return None };
    let entries = match entries {
        // Lua's empty table comes back as an empty array.
        Value::Array(None) | Value::Bulk(None) => Vec::new(),
        entries => entries.as_array()?.iter().map(decode_entry).collect::<Option<_>>()?,
    };
    Some(History { last_id: u64::try_from(*last).ok()?, epoch: epoch_of(epoch)?, entries })
}

/// One XRANGE entry: `*2 $"<id>-0" *4 $"d" $data $"t" $time` (fields in any order).
fn decode_entry(entry: &Value) -> Option<Entry> {
    let [id, fields] = entry.as_array()? else { return None };
    let id = id.as_bytes()?.strip_suffix(b"-0").and_then(decimal)?;
    let (mut data, mut time_ms) = (None, None);
    for pair in fields.as_array()?.chunks(2) {
        match (pair[0].as_bytes()?, pair.get(1)?.as_bytes()?) {
            (b"d", value) => data = Some(value.to_vec()),
            (b"t", value) => time_ms = decimal(value),
            _ => {}
        }
    }
    Some(Entry { id, time_ms: time_ms?, data: data? })
}

fn epoch_of(value: &Value) -> Option<Box<str>> {
    let bytes = value.as_bytes().filter(|b| valid_epoch(b))?;
    std::str::from_utf8(bytes).ok().map(Into::into)
}

/// `1*DIGIT` within a `u64`.
fn decimal(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// One announcement, as `publish.lua` sends it on the topic's channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    pub epoch: &'a str,
    pub id: u64,
    pub time_ms: u64,
    pub data: &'a [u8],
}

impl<'a> Payload<'a> {
    /// Reads `epoch SP id SP time LF data`; `None` if it is not that.
    pub fn parse(payload: &'a [u8]) -> Option<Payload<'a>> {
        let newline = payload.iter().position(|&b| b == b'\n')?;
        let (head, data) = (&payload[..newline], &payload[newline + 1..]);
        let mut fields = head.split(|&b| b == b' ');
        let epoch = fields.next().filter(|e| valid_epoch(e))?;
        let id = decimal(fields.next()?)?;
        let time_ms = decimal(fields.next()?)?;
        if fields.next().is_some() {
            return None;
        }
        Some(Payload { epoch: std::str::from_utf8(epoch).ok()?, id, time_ms, data })
    }

    /// Appends the payload as the script writes it: the twin of `publish.lua`'s `PUBLISH`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{} {} {}\n", self.epoch, self.id, self.time_ms).as_bytes());
        out.extend_from_slice(self.data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::resp::parse;
    use crate::wire::Status;

    fn value(wire: &[u8]) -> Value {
        let Ok(Status::Complete((value, _))) = parse(wire) else { panic!("{wire:?}") };
        value
    }

    #[test]
    fn test_sha1_is_what_script_load_returns() {
        // `SCRIPT LOAD ""` on Redis 7.0.15 answers this (the SHA-1 of nothing).
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        // `redis-cli -x SCRIPT LOAD < src/redis/publish.lua` (the file's exact bytes, final
        // newline included) answers these. Editing a script changes its SHA-1: update them
        // from Redis (tests/redis_client.rs checks the live value too).
        assert_eq!(PUBLISH.sha1(), "1e75dd392728958f30511ab8bdcba81d60f27937");
        assert_eq!(HISTORY.sha1(), "0f4122788fe2e3f8a98772bb44eba5245412d24b");
    }

    #[test]
    fn test_publish_args() {
        let (tail, argc) = publish_args("t", b"hi\n", 1700, 5, "ep", 2);
        assert_eq!(argc, 8);
        assert_eq!(
            tail,
            b"$1\r\n2\r\n$8\r\n{t}:meta\r\n$10\r\n{t}:stream\r\n$3\r\nhi\n\r\n$4\r\n1700\r\n$1\r\n5\r\n$2\r\nep\r\n$9\r\n{t}:pub:2\r\n"
        );
        let (tail, argc) = history_args("t", 3, 100, "ep");
        assert_eq!(argc, 6);
        assert_eq!(
            tail,
            b"$1\r\n2\r\n$8\r\n{t}:meta\r\n$10\r\n{t}:stream\r\n$1\r\n3\r\n$3\r\n100\r\n$2\r\nep\r\n"
        );
    }

    #[test]
    fn test_decode_replies() {
        assert_eq!(decode_published(&value(b"*2\r\n:7\r\n$4\r\nep-1\r\n")), Some((7, "ep-1".into())));
        assert_eq!(decode_published(&value(b"*2\r\n:-7\r\n$4\r\nep-1\r\n")), None);
        assert_eq!(decode_published(&value(b"*2\r\n:7\r\n$4\r\nep 1\r\n")), None);
        assert_eq!(decode_published(&value(b"+OK\r\n")), None);
        let reply = b"*3\r\n:9\r\n$2\r\nep\r\n*2\r\n*2\r\n$3\r\n8-0\r\n*4\r\n$1\r\nd\r\n$2\r\nhi\r\n$1\r\nt\r\n$4\r\n1700\r\n*2\r\n$3\r\n9-0\r\n*4\r\n$1\r\nt\r\n$4\r\n1701\r\n$1\r\nd\r\n$0\r\n\r\n";
        assert_eq!(
            decode_history(&value(reply)),
            Some(History {
                last_id: 9,
                epoch: "ep".into(),
                entries: vec![
                    Entry { id: 8, time_ms: 1700, data: b"hi".to_vec() },
                    Entry { id: 9, time_ms: 1701, data: vec![] },
                ],
            })
        );
        let empty = b"*3\r\n:0\r\n$2\r\nep\r\n*0\r\n";
        assert_eq!(decode_history(&value(empty)).map(|h| (h.last_id, h.entries.len())), Some((0, 0)));
        for bad in [
            &b"*3\r\n:0\r\n$2\r\nep\r\n*1\r\n*2\r\n$3\r\n8-1\r\n*4\r\n$1\r\nd\r\n$0\r\n\r\n$1\r\nt\r\n$1\r\n1\r\n"[..],
            b"*3\r\n:0\r\n$2\r\nep\r\n*1\r\n*2\r\n$3\r\n8-0\r\n*2\r\n$1\r\nd\r\n$0\r\n\r\n",
            b"*3\r\n:0\r\n$2\r\nep\r\n*1\r\n*2\r\n$3\r\n8-0\r\n*1\r\n$1\r\nd\r\n",
            b"*3\r\n:0\r\n$-1\r\n*0\r\n",
            b"*2\r\n:0\r\n$2\r\nep\r\n",
        ] {
            assert_eq!(decode_history(&value(bad)), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn test_payload() {
        let payload = Payload { epoch: "18c-1f", id: 42, time_ms: 1700000000000, data: b"line 1\nline 2 \0" };
        let mut wire = Vec::new();
        payload.encode(&mut wire);
        assert_eq!(wire, b"18c-1f 42 1700000000000\nline 1\nline 2 \0");
        assert_eq!(Payload::parse(&wire), Some(payload));
        assert_eq!(Payload::parse(b"e 1 2\n"), Some(Payload { epoch: "e", id: 1, time_ms: 2, data: b"" }));
        for bad in [&b"e 1 2"[..], b"e 1\n", b" 1 2\n", b"e 1 2 3\n", b"e x 2\n", b"e 1 -2\n", b"e  1 2\n"] {
            assert_eq!(Payload::parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(new_epoch(0x18c, 0x1f), "18c-1f");
        assert!(valid_epoch(new_epoch(u64::MAX, u64::MAX).as_bytes()));
    }
}
