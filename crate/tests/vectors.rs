//! Runs every test vector file in `tests/vectors/`, natively and, with
//! `cargo test --target wasm32-unknown-unknown`, as WebAssembly in headless Chromium.
//!
//! Each positive check is followed by a negative one: the code with one digit changed must not
//! verify. A failure names the file and the vector.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test data is known good; a panic is a test failure"
)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use pushotp::{Algorithm, Hotp, OcraInput, OcraSuite, Secret, Totp, Window};
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

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("vector files hold valid hex"))
        .collect()
}

/// The same code with its last digit changed.
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

#[derive(Deserialize)]
struct OcraFile {
    source: String,
    keys_hex: std::collections::BTreeMap<String, String>,
    pin: String,
    pin_sha1_hex: String,
    vectors: Vec<OcraVector>,
}

#[derive(Deserialize)]
struct OcraVector {
    section: String,
    mode: String,
    suite: String,
    key: String,
    counter: Option<u64>,
    questions: Vec<String>,
    pin: Option<String>,
    timestamp: Option<u64>,
    response: String,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rfc6287_ocra() {
    let file: OcraFile = serde_json::from_str(include_str!("vectors/rfc6287_ocra.json")).unwrap();
    let pin_suite: OcraSuite = "OCRA-1:HOTP-SHA1-6:QN08-PSHA1".parse().unwrap();
    assert_eq!(pin_suite.hash_pin(&file.pin).unwrap(), hex(&file.pin_sha1_hex), "PIN hash");
    // The vector's input, with `questions` in place of its own challenges.
    let input = |v: &OcraVector, suite: &OcraSuite, questions: &[String]| {
        let mut input = match questions {
            [one] => OcraInput::new().question(one.as_str()),
            [first, second] => OcraInput::new().mutual_question(first.as_str(), second.as_str()),
            _ => panic!("{} {}: one or two questions", v.section, v.suite),
        };
        if let Some(counter) = v.counter {
            input = input.counter(counter);
        }
        if let Some(pin) = &v.pin {
            input = input.pin_hash(suite.hash_pin(pin).unwrap());
        }
        if let Some(timestamp) = v.timestamp {
            input = input.timestamp(timestamp);
        }
        input
    };
    // The same challenges with the last character of the first one changed, still valid for
    // every question format.
    let other_questions = |questions: &[String]| {
        let mut other = questions.to_vec();
        let last = other[0].pop().unwrap();
        other[0].push(if last == '0' { '1' } else { '0' });
        other
    };
    for v in &file.vectors {
        let what =
            format!("{} {} {} {} {:?}", file.source, v.section, v.mode, v.suite, v.questions);
        let suite: OcraSuite = v.suite.parse().unwrap();
        assert_eq!(suite.to_string(), v.suite, "{what}");
        let key = Secret::from_bytes(hex(&file.keys_hex[&v.key])).unwrap();
        let right = input(v, &suite, &v.questions);
        assert_eq!(suite.compute(&key, &right).unwrap(), v.response, "{what}");
        assert!(suite.verify(&key, &right, &v.response).unwrap(), "{what}");
        let wrong = flip_last_digit(&v.response);
        assert!(!suite.verify(&key, &right, &wrong).unwrap(), "{what}: {wrong}");
        let other = input(v, &suite, &other_questions(&v.questions));
        assert_ne!(suite.compute(&key, &other).unwrap(), v.response, "{what}: other question");
    }
    report!("vectors: {} OCRA vectors of {} passed", file.vectors.len(), file.source);
}

/// The expected description of a token in `otpauth_uris.json` and `migration.json`.
#[derive(Deserialize)]
struct ExpectedToken {
    #[serde(rename = "type")]
    kind: String,
    issuer: Option<String>,
    account: String,
    secret_base32: String,
    algorithm: Algorithm,
    digits: u8,
    period: Option<u64>,
    counter: Option<u64>,
    code_time: Option<u64>,
    code: String,
    canonical: String,
}

impl ExpectedToken {
    /// Checks every field, the code the token generates, that the secret stays out of the
    /// serialized description, and the canonical URI with its round trip.
    // A test helper outside a #[test] function: a panic here is a failed test.
    #[allow(clippy::unwrap_used, clippy::panic)]
    fn check(&self, token: &pushotp::TokenUri, what: &str) {
        use pushotp::{TokenKind, TokenUri};
        let kind = match (self.kind.as_str(), self.period, self.counter) {
            ("totp", Some(period), None) => TokenKind::Totp { period },
            ("hotp", None, Some(counter)) => TokenKind::Hotp { counter },
            other => panic!("{what}: the vector file describes no valid kind: {other:?}"),
        };
        assert_eq!(token.kind(), kind, "{what}");
        assert_eq!(token.issuer(), self.issuer.as_deref(), "{what}");
        assert_eq!(token.account(), self.account, "{what}");
        assert_eq!(token.secret_base32(), self.secret_base32, "{what}");
        assert_eq!(token.algorithm(), self.algorithm, "{what}");
        assert_eq!(token.digits(), self.digits, "{what}");
        let code = match kind {
            TokenKind::Totp { .. } => {
                let time = self.code_time.unwrap();
                token.totp().unwrap().generate(token.secret(), time).unwrap()
            }
            TokenKind::Hotp { counter } => token.hotp().unwrap().generate(token.secret(), counter),
        };
        assert_eq!(code, self.code, "{what}");
        let description = serde_json::to_string(token).unwrap();
        assert!(!description.contains(&self.secret_base32), "{what}: {description}");
        assert_eq!(token.to_string(), self.canonical, "{what}");
        assert_eq!(&self.canonical.parse::<TokenUri>().unwrap(), token, "{what}: round trip");
    }
}

#[derive(Deserialize)]
struct UriFile {
    good: Vec<GoodUri>,
    bad: Vec<BadUri>,
}

#[derive(Deserialize)]
struct GoodUri {
    name: String,
    uri: String,
    #[serde(flatten)]
    token: ExpectedToken,
}

#[derive(Deserialize)]
struct BadUri {
    name: String,
    uri: String,
    error: String,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn otpauth_uris() {
    use pushotp::TokenUri;
    let file: UriFile = serde_json::from_str(include_str!("vectors/otpauth_uris.json")).unwrap();
    for case in &file.good {
        let what = format!("otpauth_uris.json good \"{}\"", case.name);
        let token: TokenUri = case.uri.parse().unwrap_or_else(|e| panic!("{what}: {e:?}"));
        case.token.check(&token, &what);
    }
    for case in &file.bad {
        let what = format!("otpauth_uris.json bad \"{}\"", case.name);
        match case.uri.parse::<TokenUri>() {
            Ok(token) => panic!("{what}: parsed as {token:?}"),
            Err(e) => assert_eq!(e.code(), case.error, "{what}: {e:?}"),
        }
    }
    report!(
        "vectors: {} otpauth URI cases passed ({} good, {} bad)",
        file.good.len() + file.bad.len(),
        file.good.len(),
        file.bad.len()
    );
}

#[derive(Deserialize)]
struct MigrationFile {
    good: Vec<GoodLink>,
    bad: Vec<BadLink>,
}

#[derive(Deserialize)]
struct GoodLink {
    name: String,
    link: String,
    version: i32,
    batch_size: u32,
    batch_index: u32,
    batch_id: i32,
    tokens: Vec<ExpectedToken>,
}

#[derive(Deserialize)]
struct BadLink {
    name: String,
    link: String,
    error: String,
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn migration_links() {
    use pushotp::{export_migration, import_migration};
    let file: MigrationFile = serde_json::from_str(include_str!("vectors/migration.json")).unwrap();
    let mut tokens = 0;
    for case in &file.good {
        let what = format!("migration.json good \"{}\"", case.name);
        let batch = import_migration(&case.link).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let info = (batch.version, batch.batch_size, batch.batch_index, batch.batch_id);
        assert_eq!(
            info,
            (case.version, case.batch_size, case.batch_index, case.batch_id),
            "{what}"
        );
        assert_eq!(batch.tokens.len(), case.tokens.len(), "{what}");
        for (i, (token, expected)) in batch.tokens.iter().zip(&case.tokens).enumerate() {
            expected.check(token, &format!("{what} token {i}"));
        }
        // Every token in these files fits the export format, so the batch survives a round trip.
        let link = export_migration(&batch.tokens).unwrap();
        assert_eq!(import_migration(&link).unwrap().tokens, batch.tokens, "{what}: round trip");
        tokens += batch.tokens.len();
    }
    for case in &file.bad {
        let what = format!("migration.json bad \"{}\"", case.name);
        match import_migration(&case.link) {
            Ok(batch) => panic!("{what}: imported {batch:?}"),
            Err(e) => assert_eq!(e.code(), case.error, "{what}: {e:?}"),
        }
    }
    report!(
        "vectors: {} migration link cases passed ({} good with {} tokens, {} bad)",
        file.good.len() + file.bad.len(),
        file.good.len(),
        tokens,
        file.bad.len()
    );
}
