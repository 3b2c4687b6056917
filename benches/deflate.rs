//! permessage-deflate's CPU cost (chapter 10): pushlab's deflater and inflater on the JSON
//! of pushed messages, beside miniz_oxide on the same bytes.
//!
//! `cargo bench --bench deflate`. One group per message; throughput is in bytes of the
//! *uncompressed* JSON, so every row answers "how fast does a message go through". The rows:
//!
//! - `plain frame`: what a push costs without compression, one text frame (the baseline);
//! - `shared_frame 15`: `shared_frame`, what the server does once per message for all its
//!   15-bit subscribers on a loop — compress alone at level 6, strip the tail, frame;
//! - `inflate`: pushlab's `Inflater`, reset between messages (a client without context);
//! - `miniz deflate`, `miniz inflate`: miniz_oxide at level 6, raw, sync-flushed, its state
//!   reused and reset between messages, as ours is.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use miniz_oxide::deflate::core::{compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZFlush};
use pushlab::transport::permessage::shared_frame;
use pushlab::wire::deflate::{Deflater, Inflater, TAIL};
use pushlab::wire::json;
use pushlab::wire::ws::frame::{write_frame, OpCode};

/// A message's JSON as the hub writes it (SPEC §2).
fn message_json(data: &str) -> Vec<u8> {
    let mut out = Vec::new();
    json::Object::new(&mut out)
        .u64("id", 1042)
        .str("topic", "chat")
        .str("data", data)
        .u64("time", 1764780000123)
        .finish();
    out
}

/// `n` chat messages as an application publishes them (one object, or an array).
fn chat(n: usize) -> String {
    let users = ["alice", "bob", "carol", "dave"];
    let texts = [
        "Are we still on for the review at three?",
        "Yes, room 4B. I'll bring the slides.",
        "Running five minutes late, start without me.",
        "The build is green again, merging now.",
        "Can someone look at the flaky test in CI?",
    ];
    let one = |i: usize| {
        format!(
            r#"{{"user":"{}","room":"general","id":{},"text":"{}"}}"#,
            users[i % 4],
            1000 + i,
            texts[i % 5]
        )
    };
    match n {
        1 => one(0),
        _ => format!("[{}]", (0..n).map(one).collect::<Vec<_>>().join(",")),
    }
}

fn bench_deflate(c: &mut Criterion) {
    for (name, data) in
        [("chat x1", chat(1)), ("chat x5", chat(5)), ("chat x20", chat(20)), ("chat x400", chat(400))]
    {
        let json = message_json(&data);
        let mut compressed = Vec::new();
        Deflater::new(15, 6).compress(&json, &mut compressed);
        let mut group =
            c.benchmark_group(format!("{name} ({} B JSON, {} B deflated)", json.len(), compressed.len() - 4));
        group.throughput(Throughput::Bytes(json.len() as u64));
        let mut out = Vec::with_capacity(json.len() + 64);
        group.bench_function("plain frame", |b| {
            b.iter(|| {
                out.clear();
                write_frame(&mut out, true, OpCode::Text, black_box(&json));
                out.len()
            })
        });
        group.bench_function("shared_frame 15", |b| {
            b.iter(|| {
                out.clear();
                shared_frame(black_box(&json), 15, &mut out);
                out.len()
            })
        });
        let mut inflater = Inflater::new(15);
        group.bench_function("inflate", |b| {
            b.iter(|| {
                out.clear();
                inflater.reset();
                inflater.inflate(black_box(&compressed), &mut out, usize::MAX).unwrap();
                out.len()
            })
        });
        let mut miniz = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(6, -15, 0)));
        let mut buf = vec![0u8; 2 * json.len() + 1024];
        group.bench_function("miniz deflate", |b| {
            b.iter(|| {
                miniz.reset();
                let (_, _, written) = compress(&mut miniz, black_box(&json), &mut buf, TDEFLFlush::Sync);
                written
            })
        });
        let mut state = InflateState::new_boxed(DataFormat::Raw);
        let mut plain = vec![0u8; json.len() + 1024];
        group.bench_function("miniz inflate", |b| {
            b.iter(|| {
                state.reset(DataFormat::Raw);
                let r = inflate(&mut state, black_box(&compressed), &mut plain, MZFlush::Sync);
                r.bytes_written
            })
        });
        debug_assert!(compressed.ends_with(&TAIL));
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30);
    targets = bench_deflate
}
criterion_main!(benches);
