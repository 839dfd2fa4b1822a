//! Codes and protocol tags per second of the core, natively:
//! `cargo bench -p pushotp --bench otp`. Figures go to BENCHMARKS.md.
//!
//! `code/*` is one code from the secret (the key schedule computed for that code alone);
//! `keyed/*` is one code from a token prepared once with `Totp::keyed`, as a verifier or an
//! authenticator listing codes keeps it.

#![allow(clippy::expect_used, reason = "benchmark set-up with constant, valid inputs")]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pushotp::push::{Answer, Place, PushRequest};
use pushotp::{Algorithm, Hotp, OcraInput, OcraSuite, Secret, Totp, Window};

fn secret(len: usize) -> Secret {
    Secret::from_bytes(b"1234567890".iter().copied().cycle().take(len).collect::<Vec<_>>())
        .expect("a non-empty key")
}

const HASHES: [(Algorithm, usize); 3] =
    [(Algorithm::Sha1, 20), (Algorithm::Sha256, 32), (Algorithm::Sha512, 64)];

fn codes(c: &mut Criterion) {
    let mut group = c.benchmark_group("code");
    group.throughput(Throughput::Elements(1));
    let hotp = Hotp::default();
    let key20 = secret(20);
    group.bench_function("hotp_sha1_6", |b| b.iter(|| hotp.generate(&key20, black_box(7))));
    for (alg, len) in HASHES {
        let totp = Totp::new(alg, 6, 30, 0).expect("valid parameters");
        let key = secret(len);
        group.bench_function(format!("totp_{}_6", alg.name().to_lowercase()), |b| {
            b.iter(|| totp.generate(&key, black_box(1_111_111_109)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("keyed");
    group.throughput(Throughput::Elements(1));
    let keyed = hotp.keyed(&key20);
    group.bench_function("hotp_sha1_6", |b| b.iter(|| keyed.generate(black_box(7))));
    for (alg, len) in HASHES {
        let keyed = Totp::new(alg, 6, 30, 0).expect("valid parameters").keyed(&secret(len));
        group.bench_function(format!("totp_{}_6", alg.name().to_lowercase()), |b| {
            b.iter(|| keyed.generate(black_box(1_111_111_109)))
        });
    }
    // The number without its text, as the WebAssembly batch returns it.
    let keyed = Totp::default().keyed(&key20);
    group.bench_function("totp_sha1_6_number", |b| {
        b.iter(|| keyed.generate_number(black_box(1_111_111_109)))
    });
    group.finish();

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(1));
    let totp = Totp::default();
    // The server's check of a passcode (`OtpParams::verify_passcode`): key once, three codes.
    group.bench_function("totp_sha1_window_1", |b| {
        b.iter(|| totp.verify(&key20, black_box("050471"), 1_111_111_111, Window::ONE_STEP))
    });
    // The server's HOTP check: a look-ahead of 20 (`push::HOTP_LOOK_AHEAD`), 21 codes.
    group.bench_function("hotp_sha1_look_ahead_20", |b| {
        b.iter(|| hotp.verify(&key20, black_box("000000"), 0, 20))
    });
    let keyed = totp.keyed(&key20);
    group.bench_function("keyed_totp_sha1_window_1", |b| {
        b.iter(|| keyed.verify(black_box("050471"), 1_111_111_111, Window::ONE_STEP))
    });
    group.finish();
}

fn ocra(c: &mut Criterion) {
    let mut group = c.benchmark_group("ocra");
    group.throughput(Throughput::Elements(1));
    // RFC 6287 Appendix C.1 (one-way challenge-response) and C.3 (with a timestamp).
    for (suite, len, input) in [
        ("OCRA-1:HOTP-SHA1-6:QN08", 20, OcraInput::new().question("00000000")),
        (
            "OCRA-1:HOTP-SHA512-8:QN08-T1M",
            64,
            OcraInput::new().question("00000000").timestamp(0x0132_d0b6),
        ),
    ] {
        let suite: OcraSuite = suite.parse().expect("an RFC 6287 suite");
        let key = secret(len);
        group.bench_function(suite.to_string(), |b| {
            b.iter(|| suite.compute(&key, black_box(&input)))
        });
    }
    group.finish();
}

fn push(c: &mut Criterion) {
    let k_req = Secret::from_bytes(vec![0x42; 32]).expect("a key");
    let k_chan = Secret::from_bytes(vec![0xc0; 32]).expect("a key");
    let k_ans = Secret::from_bytes(vec![0xa0; 32]).expect("a key");
    let mut request = PushRequest {
        v: 1,
        id: [1; 16],
        token_id: "tok_1".into(),
        app: "Demo Portal".into(),
        origin: "https://portal.example.com".into(),
        client_ip: "81.2.69.160".into(),
        place: Some(Place {
            city: "London".into(),
            country: "GB".into(),
            lat_e6: 51_514_200,
            lon_e6: -93_000,
        }),
        created_at: 1_764_000_000,
        expires_at: 1_764_000_120,
        choices: Some([37, 82, 15]),
        number_entry: None,
        binding_hash: None,
        nonce: [2; 16],
        tag: [0; 32],
    };
    request.sign(&k_req).expect("a valid request");

    let mut group = c.benchmark_group("push");
    group.throughput(Throughput::Elements(1));
    // The device: check the request's tag, then sign an approval (device tag under K_chan,
    // answer tag under K_ans: two HMAC-SHA256 over the canonical bytes).
    group.bench_function("verify_request", |b| {
        b.iter(|| black_box(&request).verify(&k_req, 1_764_000_010))
    });
    group.bench_function("approve_answer", |b| {
        b.iter(|| {
            Answer::approve(
                black_box(&request),
                Some(37),
                "287082",
                None,
                1_764_000_031,
                &k_chan,
                &k_ans,
            )
        })
    });
    group.bench_function("deny_answer", |b| {
        b.iter(|| Answer::deny(black_box(&request), 1_764_000_031, &k_chan))
    });
    // The server: both tags of an approval.
    let answer =
        Answer::approve(&request, Some(37), "287082", None, 1_764_000_031, &k_chan, &k_ans)
            .expect("a valid answer");
    group.bench_function("verify_answer_tags", |b| {
        b.iter(|| {
            let answer = black_box(&answer);
            answer.verify_device_tag(&k_chan).and_then(|()| answer.verify_answer_tag(&k_ans))
        })
    });
    group.finish();
}

criterion_group!(benches, codes, ocra, push);
criterion_main!(benches);
