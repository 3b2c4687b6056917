//! Tests for `resp.rs`: every example of the RESP specification, every prefix, every rule
//! broken, the limits, the encoders.

use super::*;
use crate::wire::test_rng::Rng;

fn bulk(data: &[u8]) -> Value {
    Value::Bulk(Some(data.to_vec()))
}

fn array(items: Vec<Value>) -> Value {
    Value::Array(Some(items))
}

/// Parses `input`, which must be exactly one value.
fn whole(input: &[u8]) -> Value {
    match parse(input) {
        Ok(Status::Complete((value, len))) => {
            assert_eq!(len, input.len(), "{:?} is one value", String::from_utf8_lossy(input));
            value
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

/// The examples of the RESP specification's sections, byte for byte, with what they mean.
fn spec_examples() -> Vec<(&'static [u8], Value)> {
    vec![
        // RESP §Simple strings
        (b"+OK\r\n", Value::Simple(b"OK".to_vec())),
        // RESP §Simple errors
        (b"-Error message\r\n", Value::Error(b"Error message".to_vec())),
        (b"-ERR unknown command 'asdf'\r\n", Value::Error(b"ERR unknown command 'asdf'".to_vec())),
        (
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            Value::Error(b"WRONGTYPE Operation against a key holding the wrong kind of value".to_vec()),
        ),
        // RESP §Integers
        (b":0\r\n", Value::Integer(0)),
        (b":1000\r\n", Value::Integer(1000)),
        (b":+1000\r\n", Value::Integer(1000)),
        (b":-1000\r\n", Value::Integer(-1000)),
        (b":9223372036854775807\r\n", Value::Integer(i64::MAX)),
        (b":-9223372036854775808\r\n", Value::Integer(i64::MIN)),
        // RESP §Bulk strings
        (b"$5\r\nhello\r\n", bulk(b"hello")),
        (b"$0\r\n\r\n", bulk(b"")),
        // Binary-safe: CR, LF and NUL inside the data are data.
        (b"$6\r\na\r\nb\0c\r\n", bulk(b"a\r\nb\0c")),
        // RESP §Null bulk strings
        (b"$-1\r\n", Value::Bulk(None)),
        // RESP §Arrays
        (b"*0\r\n", array(vec![])),
        (b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n", array(vec![bulk(b"hello"), bulk(b"world")])),
        (b"*3\r\n:1\r\n:2\r\n:3\r\n", array(vec![Value::Integer(1), Value::Integer(2), Value::Integer(3)])),
        (
            b"*5\r\n:1\r\n:2\r\n:3\r\n:4\r\n$5\r\nhello\r\n",
            array(vec![
                Value::Integer(1),
                Value::Integer(2),
                Value::Integer(3),
                Value::Integer(4),
                bulk(b"hello"),
            ]),
        ),
        (
            b"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n",
            array(vec![
                array(vec![Value::Integer(1), Value::Integer(2), Value::Integer(3)]),
                array(vec![Value::Simple(b"Hello".to_vec()), Value::Error(b"World".to_vec())]),
            ]),
        ),
        // RESP §Null arrays
        (b"*-1\r\n", Value::Array(None)),
        // RESP §Null elements in arrays
        (
            b"*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n",
            array(vec![bulk(b"hello"), Value::Bulk(None), bulk(b"world")]),
        ),
        // RESP §Sending commands: the LLEN example's command and reply
        (b"*2\r\n$4\r\nLLEN\r\n$6\r\nmylist\r\n", array(vec![bulk(b"LLEN"), bulk(b"mylist")])),
        (b":48293\r\n", Value::Integer(48293)),
        // Redis's own replies to our script and to SUBSCRIBE (captured, docs/09-notes-redis.md).
        (b"*2\r\n:1\r\n$4\r\nep-1\r\n", array(vec![Value::Integer(1), bulk(b"ep-1")])),
        (
            b"*3\r\n$9\r\nsubscribe\r\n$9\r\n{t}:pub:0\r\n:1\r\n",
            array(vec![bulk(b"subscribe"), bulk(b"{t}:pub:0"), Value::Integer(1)]),
        ),
    ]
}

#[test]
fn test_parse_spec_examples() {
    for (input, expected) in spec_examples() {
        assert_eq!(whole(input), expected, "{:?}", String::from_utf8_lossy(input));
    }
}

#[test]
fn test_every_prefix_is_partial() {
    // httparse's partial_permutations: no prefix of a valid value is an error or complete.
    for (input, _) in spec_examples() {
        for len in 0..input.len() {
            assert_eq!(
                parse(&input[..len]),
                Ok(Status::Partial),
                "{:?}",
                String::from_utf8_lossy(&input[..len])
            );
        }
    }
}

#[test]
fn test_pipelined_values_parse_one_at_a_time() {
    let mut all = Vec::new();
    let examples = spec_examples();
    for (input, _) in &examples {
        all.extend_from_slice(input);
    }
    let mut at = 0;
    for (_, expected) in examples {
        let Ok(Status::Complete((value, len))) = parse(&all[at..]) else { panic!("at {at}") };
        assert_eq!(value, expected);
        at += len;
    }
    assert_eq!(at, all.len());
}

#[test]
fn test_encode_then_parse_is_identity() {
    for (input, value) in spec_examples() {
        let mut out = Vec::new();
        value.encode(&mut out);
        // Our encoding is canonical: no `+` sign on integers.
        if input != b":+1000\r\n" {
            assert_eq!(out, input);
        }
        assert_eq!(whole(&out), value);
    }
}

#[test]
fn test_encode_command() {
    let mut out = Vec::new();
    encode_command(&mut out, &[b"LLEN", b"mylist"]);
    assert_eq!(out, b"*2\r\n$4\r\nLLEN\r\n$6\r\nmylist\r\n");
    out.clear();
    encode_command(&mut out, &[b"SET", b"k", b"a\r\nb", b""]);
    assert_eq!(out, b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
    out.clear();
    encode_array_header(&mut out, 1);
    encode_bulk(&mut out, b"PING");
    assert_eq!(out, b"*1\r\n$4\r\nPING\r\n");
}

#[test]
fn test_garbage_names_the_rule() {
    let cases: &[(&[u8], RespError)] = &[
        // Not a type byte; RESP3's types are not RESP2's; an inline reply is no reply.
        (b"x", RespError::Type),
        (b"_\r\n", RespError::Type),
        (b",1.5\r\n", RespError::Type),
        (b"%1\r\n", RespError::Type),
        (b">3\r\n", RespError::Type),
        (b"HTTP/1.1 400 Bad Request\r\n", RespError::Type),
        (b"*1\r\nx", RespError::Type),
        // Lengths.
        (b"$\r\n", RespError::Length),
        (b"$x\r\n", RespError::Length),
        (b"$+5\r\n", RespError::Length),
        (b"$5 \r\n", RespError::Length),
        (b"$ 5\r\n", RespError::Length),
        (b"*a", RespError::Length),
        (b"$99999999999999999999\r\n", RespError::Length),
        (b"$-\r\n", RespError::Length),
        // Negative lengths other than -1.
        (b"$-2\r\n", RespError::NegativeLength),
        (b"$-2", RespError::NegativeLength),
        (b"*-10", RespError::NegativeLength),
        (b"$-0\r\n", RespError::NegativeLength),
        // Integers.
        (b":\r\n", RespError::Integer),
        (b":-\r\n", RespError::Integer),
        (b":12a\r\n", RespError::Integer),
        (b":1.5\r\n", RespError::Integer),
        (b":9223372036854775808\r\n", RespError::Integer),
        (b":-9223372036854775809\r\n", RespError::Integer),
        (b":99999999999999999999", RespError::Integer),
        // Missing CRLF.
        (b"+OK\n", RespError::Delimiter),
        (b"+OK\rX", RespError::Delimiter),
        (b"+O\nK\r\n", RespError::Delimiter),
        (b":1\rX", RespError::Delimiter),
        (b"$5\r\nhelloXY", RespError::Delimiter),
        (b"$5\r\nhelloX", RespError::Delimiter),
        (b"$5\r\nhello\rX", RespError::Delimiter),
        (b"$5\rX", RespError::Delimiter),
        (b"$-1\rX", RespError::Delimiter),
        (b"*1\r\n$1\r\nab\r\n", RespError::Delimiter),
        // Limits.
        (b"$1048577\r\n", RespError::BulkTooLong),
        (b"$9223372036854775807\r\n", RespError::BulkTooLong),
        (b"*1048577\r\n", RespError::ArrayTooLong),
        (b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n", RespError::TooDeep),
    ];
    for &(input, expected) in cases {
        assert_eq!(parse(input), Err(expected), "{:?}", String::from_utf8_lossy(input));
        assert!(!expected.reason().is_empty());
        // Appending bytes never changes an error.
        let mut longer = input.to_vec();
        longer.extend_from_slice(b"\r\n+OK\r\n");
        assert_eq!(parse(&longer), Err(expected), "{:?} + more", String::from_utf8_lossy(input));
    }
}

#[test]
fn test_limits_are_inclusive() {
    let mut max = format!("${MAX_BULK}\r\n").into_bytes();
    max.resize(max.len() + MAX_BULK, b'x');
    max.extend_from_slice(b"\r\n");
    assert_eq!(whole(&max).as_bytes().map(<[u8]>::len), Some(MAX_BULK));
    // MAX_DEPTH arrays, nested, are fine.
    let mut deep = b"*1\r\n".repeat(MAX_DEPTH);
    deep.extend_from_slice(b":7\r\n");
    let mut value = Value::Integer(7);
    for _ in 0..MAX_DEPTH {
        value = array(vec![value]);
    }
    assert_eq!(whole(&deep), value);
    // A claimed maximal array is Partial with no elements there, and allocates nothing.
    assert_eq!(parse(format!("*{MAX_ARRAY}\r\n").as_bytes()), Ok(Status::Partial));
    assert_eq!(parse(format!("${MAX_BULK}\r\n").as_bytes()), Ok(Status::Partial));
}

#[test]
fn test_long_lines() {
    let mut long = vec![b'+'];
    long.resize(1 + MAX_LINE, b'a');
    assert_eq!(parse(&long), Ok(Status::Partial));
    long.extend_from_slice(b"\r\n");
    assert_eq!(whole(&long).as_bytes().map(<[u8]>::len), Some(MAX_LINE));
    long.truncate(1 + MAX_LINE);
    long.push(b'a');
    assert_eq!(parse(&long), Err(RespError::LineTooLong));
    long.extend_from_slice(b"\r\n");
    assert_eq!(parse(&long), Err(RespError::LineTooLong));
}

#[test]
fn test_large_bulk_split_across_reads() {
    // A 200 000-byte bulk inside an array, arriving in 4 KiB reads as a socket delivers it:
    // Partial until the last byte, then the whole value, with the next reply untouched.
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let value = array(vec![Value::Integer(1), bulk(&data), Value::Bulk(None)]);
    let mut wire = Vec::new();
    value.encode(&mut wire);
    let value_len = wire.len();
    wire.extend_from_slice(b"+NEXT\r\n");
    let mut buffer = Vec::new();
    for piece in wire.chunks(4096) {
        buffer.extend_from_slice(piece);
        match parse(&buffer) {
            Ok(Status::Partial) => assert!(buffer.len() < value_len),
            Ok(Status::Complete((parsed, len))) => {
                assert!(buffer.len() >= value_len);
                assert_eq!((parsed, len), (value.clone(), value_len));
                assert_eq!(whole(&buffer[len..]), Value::Simple(b"NEXT".to_vec()));
                return;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    panic!("never complete");
}

#[test]
fn test_random_values_round_trip_whole_and_split() {
    fn random(rng: &mut Rng, depth: usize) -> Value {
        match rng.below(if depth < 4 { 7 } else { 5 }) {
            0 => Value::Simple((0..rng.below(8)).map(|_| b'a' + rng.below(26) as u8).collect()),
            1 => Value::Error(b"ERR x".to_vec()),
            2 => Value::Integer(rng.next() as i64),
            3 => Value::Bulk(None),
            4 => bulk(&(0..rng.below(40)).map(|_| rng.byte()).collect::<Vec<_>>()),
            5 => Value::Array(None),
            _ => array((0..rng.below(5)).map(|_| random(rng, depth + 1)).collect()),
        }
    }
    let mut rng = Rng(0x5eed_0e59);
    for _ in 0..500 {
        let value = random(&mut rng, 0);
        let mut wire = Vec::new();
        value.encode(&mut wire);
        assert_eq!(whole(&wire), value);
        let cut = rng.below(wire.len());
        assert_eq!(parse(&wire[..cut]), Ok(Status::Partial));
        assert_eq!(check(&wire), Ok(Status::Complete(wire.len())));
    }
}
