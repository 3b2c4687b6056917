//! `wire::deflate` beside miniz_oxide, both ways, on pushlab-shaped messages.
//!
//! `cargo bench --bench deflate`. Each group is one input: our deflater and miniz's at
//! level 6, each message compressed alone (pushlab's `server_no_context_takeover`: reset,
//! compress, sync flush), then our inflater and miniz's on miniz's stream. Criterion reports
//! throughput of the *uncompressed* bytes (`Throughput::Bytes`); before the timings, the
//! compressed sizes of both are printed.

#[path = "../fuzz/checks/deflate_oracle.rs"]
mod deflate_oracle;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deflate_oracle::{MinizDeflater, MinizInflater};
use pushlab::wire::deflate::{Deflater, Inflater};

/// One message as `/ws` subscribers get it (SPEC §5): id, topic, data, time.
fn pushlab_message(id: u64) -> Vec<u8> {
    format!(
        r#"{{"id":{id},"topic":"chat","data":"hello from the bench, message {id}","time":{}}}"#,
        1_732_390_000_123 + id
    )
    .into_bytes()
}

fn inputs() -> Vec<(&'static str, Vec<u8>)> {
    let stream: Vec<u8> = (0..1000).flat_map(pushlab_message).collect();
    let mut text = Vec::new();
    let words = ["the ", "topic ", "subscriber ", "message ", "window ", "hello, ", "world.\n", "deflate "];
    let mut x = 0x2545_F491u32;
    while text.len() < 64 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        text.extend_from_slice(words[(x % 8) as usize].as_bytes());
    }
    vec![
        ("message_100B", pushlab_message(1_000_007)),
        ("json_stream_64K", stream[..64 * 1024].to_vec()),
        ("text_64K", text),
    ]
}

fn bench_deflate(c: &mut Criterion) {
    for (name, input) in inputs() {
        let mut ours = Vec::new();
        Deflater::new(15, 6).compress(&input, &mut ours);
        let theirs = MinizDeflater::new(6).message(&input);
        eprintln!(
            "{name}: {} bytes; pushlab {} bytes, miniz {} bytes (level 6, tail included)",
            input.len(),
            ours.len(),
            theirs.len()
        );

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function("deflate/pushlab", |b| {
            let mut deflater = Deflater::new(15, 6);
            let mut out = Vec::with_capacity(2 * input.len() + 64);
            b.iter(|| {
                deflater.reset();
                out.clear();
                deflater.compress(black_box(&input), &mut out);
                black_box(out.len())
            })
        });
        group.bench_function("deflate/miniz", |b| {
            let mut deflater = MinizDeflater::new(6);
            b.iter(|| {
                deflater.reset();
                black_box(deflater.message(black_box(&input)).len())
            })
        });
        group.bench_function("inflate/pushlab", |b| {
            let mut inflater = Inflater::new(15);
            let mut out = Vec::with_capacity(input.len());
            b.iter(|| {
                inflater.reset();
                out.clear();
                inflater.inflate(black_box(&theirs), &mut out, usize::MAX).unwrap();
                black_box(out.len())
            })
        });
        group.bench_function("inflate/miniz", |b| {
            let mut inflater = MinizInflater::default();
            b.iter(|| {
                inflater.reset();
                black_box(inflater.feed(black_box(&theirs), usize::MAX).unwrap().len())
            })
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! { name = benches; config = config(); targets = bench_deflate }
criterion_main!(benches);
