//! Runs every test vector file in `tests/vectors/`, natively and, with
//! `cargo test --target wasm32-unknown-unknown`, as WebAssembly in headless Chromium.
//!
//! Each positive check is followed by a negative one: the code with one digit changed must not
//! verify. A failure names the file and the vector.

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pushotp::{Algorithm, Hotp, Secret, Totp, Window};
use serde::Deserialize;

/// Prints a line to the test output, natively and in the browser alike.
macro_rules! report {
    ($($arg:tt)*) => {{
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::console_log!($($arg)*);
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!($($arg)*);
    }};
}

// Test helpers outside a #[test] function: a panic here is a failed test.
#[allow(clippy::expect_used)]
fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("vector files hold valid hex"))
        .collect()
}

/// The same code with its last digit changed.
#[allow(clippy::unwrap_used)]
fn flip_last_digit(code: &str) -> String {
    let (head, last) = code.split_at(code.len() - 1);
    let digit = last.parse::<u8>().unwrap();
    format!("{head}{}", (digit + 1) % 10)
}

#[derive(Deserialize)]
struct HotpFile {
    source: String,
    secret_hex: String,
    algorithm: Algorithm,
    digits: u8,
    vectors: Vec<HotpVector>,
}

#[derive(Deserialize)]
struct HotpVector {
    counter: u64,
    code: String,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rfc4226_hotp() {
    let file: HotpFile = serde_json::from_str(include_str!("vectors/rfc4226_hotp.json")).unwrap();
    let secret = Secret::from_bytes(hex(&file.secret_hex)).unwrap();
    let hotp = Hotp::new(file.algorithm, file.digits).unwrap();
    for v in &file.vectors {
        let what = format!("{} counter {}", file.source, v.counter);
        assert_eq!(hotp.generate(&secret, v.counter), v.code, "{what}");
        assert_eq!(hotp.verify(&secret, &v.code, v.counter, 0).unwrap(), Some(v.counter), "{what}");
        let wrong = flip_last_digit(&v.code);
        assert_eq!(hotp.verify(&secret, &wrong, v.counter, 0).unwrap(), None, "{what}: {wrong}");
    }
    report!("vectors: {} HOTP vectors of {} passed", file.vectors.len(), file.source);
}

#[derive(Deserialize)]
struct TotpFile {
    source: String,
    digits: u8,
    period: u64,
    t0: u64,
    secrets_hex: std::collections::BTreeMap<Algorithm, String>,
    vectors: Vec<TotpVector>,
}

#[derive(Deserialize)]
struct TotpVector {
    time: u64,
    step: u64,
    algorithm: Algorithm,
    code: String,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rfc6238_totp() {
    let file: TotpFile = serde_json::from_str(include_str!("vectors/rfc6238_totp.json")).unwrap();
    for v in &file.vectors {
        let what = format!("{} {} T={}", file.source, v.algorithm, v.time);
        let secret = Secret::from_bytes(hex(&file.secrets_hex[&v.algorithm])).unwrap();
        let totp = Totp::new(v.algorithm, file.digits, file.period, file.t0).unwrap();
        assert_eq!(totp.step(v.time).unwrap(), v.step, "{what}");
        assert_eq!(totp.generate(&secret, v.time).unwrap(), v.code, "{what}");
        let exact = Window::default();
        assert_eq!(totp.verify(&secret, &v.code, v.time, exact).unwrap(), Some(v.step), "{what}");
        let wrong = flip_last_digit(&v.code);
        assert_eq!(totp.verify(&secret, &wrong, v.time, exact).unwrap(), None, "{what}: {wrong}");
    }
    report!("vectors: {} TOTP vectors of {} passed", file.vectors.len(), file.source);
}
