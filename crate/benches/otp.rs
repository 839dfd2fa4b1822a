//! Codes per second of the core, natively: `cargo bench -p pushotp --bench otp`.
//! Figures go to BENCHMARKS.md.

#![allow(clippy::expect_used, reason = "benchmark set-up with constant, valid inputs")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pushotp::{Algorithm, Hotp, Secret, Totp, Window};

fn secret(len: usize) -> Secret {
    Secret::from_bytes(b"1234567890".iter().copied().cycle().take(len).collect::<Vec<_>>())
        .expect("a non-empty key")
}

fn codes(c: &mut Criterion) {
    let mut group = c.benchmark_group("code");
    group.throughput(Throughput::Elements(1));
    let hotp = Hotp::default();
    let key20 = secret(20);
    group.bench_function("hotp_sha1_6", |b| b.iter(|| hotp.generate(&key20, black_box(7))));
    for (alg, len) in [(Algorithm::Sha1, 20), (Algorithm::Sha256, 32), (Algorithm::Sha512, 64)] {
        let totp = Totp::new(alg, 6, 30, 0).expect("valid parameters");
        let key = secret(len);
        group.bench_function(format!("totp_{}_6", alg.name().to_lowercase()), |b| {
            b.iter(|| totp.generate(&key, black_box(1_111_111_109)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    let totp = Totp::default();
    group.bench_function("totp_sha1_window_1", |b| {
        b.iter(|| totp.verify(&key20, black_box("050471"), 1_111_111_111, Window::ONE_STEP))
    });
    group.finish();
}

criterion_group!(benches, codes);
criterion_main!(benches);
