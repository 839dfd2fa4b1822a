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

#[derive(Deserialize)]
struct PushFile {
    source: String,
    inputs: PushInputs,
    link: String,
    keys: PushKeys,
    enroll: Tagged,
    enrolled: Tagged,
    enrolled_login_origins: Tagged,
    enroll_confirm: ConfirmVector,
    requests: Vec<Tagged>,
    ended: Vec<Tagged>,
    notices: Vec<Tagged>,
    answers: Vec<AnswerVector>,
    channel_auth: ChannelVector,
    poll: ChannelVector,
    webpush: ChannelVector,
    remove: ChannelVector,
    pin: PinVector,
    pin_longer_keys: Vec<LongerPinVector>,
    restore: RestoreVector,
    restored_keys: RestoredKeys,
    restored: Tagged,
    restored_elsewhere: ChannelVector,
    approvals: Vec<ApprovalVector>,
    login_code: LoginCodeVector,
    page_binding: PageBindingVector,
}

/// The binding of the login page a request was started from, the request's `bindingHash`, the
/// request with it, and its bound approval (protocol §5, "Same-browser approvals").
#[derive(Deserialize)]
struct PageBindingVector {
    binding_hex: String,
    binding: String,
    hash_canonical_hex: String,
    hash_hex: String,
    request: Tagged,
    answer: AnswerVector,
}

/// The sign-in code in the reply to the approval of a request, and its `loginCodeTag` under
/// `K_req` (protocol §5, "What the login page gets").
#[derive(Deserialize)]
struct LoginCodeVector {
    request: usize,
    login_code: String,
    canonical_hex: String,
    tag_hex: String,
}

/// A token of one passcode hash and length: its enrollment answer, and the approval of
/// request 0 with its request-bound passcode (protocol §3, §5).
#[derive(Deserialize)]
struct ApprovalVector {
    algorithm: Algorithm,
    digits: u8,
    suite: String,
    passcode: String,
    enrolled: Tagged,
    answer: AnswerVector,
}

#[derive(Deserialize)]
struct RestoreVector {
    inputs: RestoreInputs,
    json: serde_json::Value,
    canonical_hex: String,
    tag_hex: String,
}

#[derive(Deserialize)]
struct RestoreInputs {
    nonce_hex: String,
    counter: u64,
}

#[derive(Deserialize)]
struct RestoredKeys {
    request_hex: String,
    channel_hex: String,
}

#[derive(Deserialize)]
struct PushInputs {
    activation_secret_hex: String,
    device_nonce_hex: String,
    server_nonce_hex: String,
    token_id: String,
    device_name: String,
    server: String,
    link_expires_at: u64,
}

#[derive(Deserialize)]
struct PushKeys {
    activation_hex: String,
    otp_hex: std::collections::BTreeMap<Algorithm, String>,
    request_hex: String,
    answer_hex: String,
    channel_hex: String,
}

/// The comparison code of an enrollment: its MAC input, the MAC and the six digits.
#[derive(Deserialize)]
struct ConfirmVector {
    canonical_hex: String,
    tag_hex: String,
    code: String,
}

/// A message with its wire JSON, the MAC input and the tag (or proof).
#[derive(Deserialize)]
struct Tagged {
    #[serde(default)]
    name: String,
    json: serde_json::Value,
    canonical_hex: String,
    #[serde(alias = "proof_hex")]
    tag_hex: String,
}

#[derive(Deserialize)]
struct AnswerVector {
    name: String,
    request: usize,
    json: serde_json::Value,
    device_canonical_hex: String,
    device_tag_hex: String,
    answer_canonical_hex: String,
    answer_tag_hex: Option<String>,
}

#[derive(Deserialize)]
struct ChannelVector {
    at: Option<u64>,
    nonce_hex: Option<String>,
    subscription: Option<pushotp::push::WebPushSubscription>,
    canonical_hex: String,
    tag_hex: String,
}

#[derive(Deserialize)]
struct PinVector {
    pin: String,
    salt_hex: String,
    params: pushotp::push::PinParams,
    masked: serde_json::Value,
    masked_hex: String,
    wrong_pin: String,
    wrong_otp_hex: String,
    wrong_answer_hex: String,
}

/// §6 masking of the longer `K_otp` of SHA-256 and SHA-512 tokens (32 and 64 bytes).
#[derive(Deserialize)]
struct LongerPinVector {
    algorithm: Algorithm,
    pin: String,
    salt_hex: String,
    masked: serde_json::Value,
    masked_hex: String,
    wrong_pin: String,
    wrong_otp_hex: String,
    wrong_answer_hex: String,
}

/// Asserts that `verifies` accepts `tag` and refuses it with any one byte changed.
fn check_tag(what: &str, tag: &[u8], verifies: impl Fn(&[u8]) -> bool) {
    assert!(verifies(tag), "{what}: the right tag must verify");
    for i in 0..tag.len() {
        let mut bad = tag.to_vec();
        bad[i] ^= 0x01;
        assert!(!verifies(&bad), "{what}: tag with byte {i} changed verified");
    }
}

fn array<const N: usize>(text: &str) -> [u8; N] {
    hex(text).try_into().expect("vector files hold values of the right length")
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn push_protocol() {
    use pushotp::Error;
    use pushotp::push::{
        ActivationLink, Answer, Decision, EndReason, EnrollRequest, Enrolled, MaskedKeys,
        NoticeKind, OtpParams, PushEnded, PushRequest, RestoreRequest, Restored, TokenKeys,
        TokenNotice, activation_key, binding_hash, binding_hash_input, binding_matches,
        channel_auth_input, channel_auth_tag, login_code_input, login_code_tag, poll_input,
        poll_tag, remove_input, remove_tag, restore_input, restored_elsewhere_input,
        restored_elsewhere_tag, restored_keys, verify_channel_auth, verify_login_code, verify_poll,
        verify_remove, verify_restored_elsewhere, verify_token_notice, verify_webpush,
        webpush_input, webpush_tag,
    };
    let file: PushFile = serde_json::from_str(include_str!("vectors/push_protocol.json")).unwrap();
    let source = &file.source;
    let inputs = &file.inputs;
    let a = Secret::from_bytes(hex(&inputs.activation_secret_hex)).unwrap();
    let device_nonce: [u8; 16] = array(&inputs.device_nonce_hex);
    let server_nonce: [u8; 16] = array(&inputs.server_nonce_hex);
    let secret = |text: &str| Secret::from_bytes(hex(text)).unwrap();
    let mut count = 0;

    // §3 activation link: parses to the inputs and prints back unchanged.
    let link: ActivationLink = file.link.parse().unwrap();
    assert_eq!(link.server(), inputs.server, "{source} link");
    assert_eq!(link.token_id(), inputs.token_id, "{source} link");
    assert_eq!(link.secret(), &a, "{source} link");
    assert_eq!(link.expires_at(), inputs.link_expires_at, "{source} link");
    assert_eq!(link.to_string(), file.link, "{source} link");
    count += 1;

    // §1 keys, for every algorithm.
    let k = &file.keys;
    assert_eq!(activation_key(&a), secret(&k.activation_hex), "{source} K_act");
    for (algorithm, otp_hex) in &k.otp_hex {
        let keys = TokenKeys::derive(&a, &device_nonce, &server_nonce, *algorithm);
        let expected = TokenKeys {
            otp: secret(otp_hex),
            request: secret(&k.request_hex),
            answer: secret(&k.answer_hex),
            channel: secret(&k.channel_hex),
        };
        assert_eq!(keys, expected, "{source} keys {algorithm}");
    }
    let keys = TokenKeys::derive(&a, &device_nonce, &server_nonce, Algorithm::Sha1);
    count += 1;

    // §3 enrollment request: built by the device, checked by the server.
    let what = format!("{source} enroll");
    let request = EnrollRequest::new(&link, &inputs.device_name, device_nonce).unwrap();
    let wire: EnrollRequest = serde_json::from_value(file.enroll.json.clone()).unwrap();
    assert_eq!(request, wire, "{what}");
    assert_eq!(serde_json::to_value(&request).unwrap(), file.enroll.json, "{what}");
    assert_eq!(request.canonical().as_bytes(), hex(&file.enroll.canonical_hex), "{what}");
    assert_eq!(request.proof.to_vec(), hex(&file.enroll.tag_hex), "{what}");
    check_tag(&what, &request.proof, |proof| {
        let mut r = request.clone();
        r.proof = proof.try_into().unwrap();
        r.verify(&a).is_ok()
    });
    let mut bad = request.clone();
    bad.device_nonce[0] ^= 1;
    assert_eq!(bad.verify(&a), Err(Error::BadTag), "{what}: other nonce");
    count += 1;

    // §3 enrollment answer: built by the server, checked by the device, which gets its keys.
    let what = format!("{source} enrolled");
    let enrolled: Enrolled = serde_json::from_value(file.enrolled.json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&enrolled).unwrap(), file.enrolled.json, "{what}");
    let input = enrolled.canonical(&device_nonce);
    assert_eq!(input.as_bytes(), hex(&file.enrolled.canonical_hex), "{what}");
    assert_eq!(enrolled.tag.to_vec(), hex(&file.enrolled.tag_hex), "{what}");
    assert_eq!(enrolled.verify(&a, &request).unwrap(), keys, "{what}");
    let mut resigned = enrolled.clone();
    resigned.tag = [0; 32];
    resigned.sign(&a, &request).unwrap();
    assert_eq!(resigned, enrolled, "{what}: sign");
    check_tag(&what, &enrolled.tag, |tag| {
        let mut e = enrolled.clone();
        e.tag = tag.try_into().unwrap();
        e.verify(&a, &request).is_ok()
    });
    let mut bad = enrolled.clone();
    bad.server_nonce[0] ^= 1;
    assert_eq!(bad.verify(&a, &request), Err(Error::BadTag), "{what}: other nonce");
    count += 1;

    // §3 the same answer declaring login-page origins: they follow in the tag's input.
    let what = format!("{source} enrolled with login origins");
    let declaring: Enrolled =
        serde_json::from_value(file.enrolled_login_origins.json.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&declaring).unwrap(),
        file.enrolled_login_origins.json,
        "{what}"
    );
    assert!(declaring.login_origins.as_ref().is_some_and(|o| !o.is_empty()), "{what}");
    let input = declaring.canonical(&device_nonce);
    assert_eq!(input.as_bytes(), hex(&file.enrolled_login_origins.canonical_hex), "{what}");
    assert!(input.as_bytes().starts_with(enrolled.canonical(&device_nonce).as_bytes()), "{what}");
    assert_eq!(declaring.tag.to_vec(), hex(&file.enrolled_login_origins.tag_hex), "{what}");
    assert_eq!(declaring.verify(&a, &request).unwrap(), keys, "{what}");
    let mut resigned = declaring.clone();
    resigned.tag = [0; 32];
    resigned.sign(&a, &request).unwrap();
    assert_eq!(resigned, declaring, "{what}: sign");
    let mut stripped = declaring.clone();
    stripped.login_origins = None;
    assert_eq!(stripped.verify(&a, &request), Err(Error::BadTag), "{what}: stripped");
    count += 1;

    // §3 the comparison code of that redemption, shown by the device and by the page.
    let what = format!("{source} enroll confirm");
    let confirm = &file.enroll_confirm;
    let input = pushotp::push::enroll_confirm_input(&inputs.token_id, &device_nonce, &server_nonce);
    assert_eq!(input.as_bytes(), hex(&confirm.canonical_hex), "{what}");
    assert_eq!(
        input.mac(&pushotp::push::activation_key(&a)).to_vec(),
        hex(&confirm.tag_hex),
        "{what}"
    );
    let code =
        pushotp::push::enroll_confirm_code(&a, &inputs.token_id, &device_nonce, &server_nonce);
    assert_eq!(code, confirm.code, "{what}");
    let other =
        pushotp::push::enroll_confirm_code(&a, &inputs.token_id, &server_nonce, &device_nonce);
    assert_ne!(other, confirm.code, "{what}: nonces swapped");
    count += 1;

    // §4 push login requests.
    let mut requests = Vec::new();
    for v in &file.requests {
        let what = format!("{source} request {}", v.name);
        let request: PushRequest = serde_json::from_value(v.json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&request).unwrap(), v.json, "{what}");
        assert_eq!(request.canonical().as_bytes(), hex(&v.canonical_hex), "{what}");
        assert_eq!(request.tag.to_vec(), hex(&v.tag_hex), "{what}");
        let now = request.created_at;
        request.verify(&keys.request, now).unwrap();
        let mut resigned = request.clone();
        resigned.tag = [0; 32];
        resigned.sign(&keys.request).unwrap();
        assert_eq!(resigned, request, "{what}: sign");
        check_tag(&what, &request.tag, |tag| {
            let mut r = request.clone();
            r.tag = tag.try_into().unwrap();
            r.verify(&keys.request, now).is_ok()
        });
        let mut bad = request.clone();
        bad.nonce[15] ^= 1;
        assert_eq!(bad.verify(&keys.request, now), Err(Error::BadTag), "{what}: nonce");
        assert_eq!(request.verify(&keys.channel, now), Err(Error::BadTag), "{what}: K_chan");
        assert_eq!(request.verify(&keys.request, request.expires_at), Err(Error::Expired));
        assert_eq!(request.verify(&keys.request, now - 31), Err(Error::NotYetValid));
        // A typed number is covered by the tag: dropped on the way, the request fails.
        if request.number_entry.is_some() {
            let mut dropped = request.clone();
            dropped.number_entry = None;
            assert_eq!(dropped.verify(&keys.request, now), Err(Error::BadTag), "{what}: entry");
        }
        requests.push(request);
        count += 1;
    }
    assert!(requests.iter().any(|r| r.number_entry.is_some()), "a request with a typed number");

    // §4 the end of a request: built by the server, checked by the device.
    for v in &file.ended {
        let what = format!("{source} ended {}", v.name);
        let notice: PushEnded = serde_json::from_value(v.json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&notice).unwrap(), v.json, "{what}");
        assert_eq!(notice.canonical().as_bytes(), hex(&v.canonical_hex), "{what}");
        assert_eq!(notice.tag.to_vec(), hex(&v.tag_hex), "{what}");
        let built = PushEnded::new(notice.id, &notice.token_id, notice.reason, &keys.request);
        assert_eq!(built.as_ref(), Ok(&notice), "{what}: new");
        check_tag(&what, &notice.tag, |tag| {
            let mut n = notice.clone();
            n.tag = tag.try_into().unwrap();
            n.verify(&keys.request).is_ok()
        });
        assert_eq!(notice.verify(&keys.channel), Err(Error::BadTag), "{what}: K_chan");
        for reason in EndReason::ALL.into_iter().filter(|r| *r != notice.reason) {
            let mut other = notice.clone();
            other.reason = reason;
            assert_eq!(other.verify(&keys.request), Err(Error::BadTag), "{what}: {reason}");
        }
        count += 1;
    }

    // §4 notices about a token: built by the server, checked by the device, also field by field.
    for v in &file.notices {
        let what = format!("{source} notice {}", v.name);
        let notice: TokenNotice = serde_json::from_value(v.json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&notice).unwrap(), v.json, "{what}");
        assert_eq!(notice.canonical().as_bytes(), hex(&v.canonical_hex), "{what}");
        assert_eq!(notice.tag.to_vec(), hex(&v.tag_hex), "{what}");
        let built = TokenNotice::new(&notice.token_id, notice.kind, notice.at, &keys.request);
        assert_eq!(built.as_ref(), Ok(&notice), "{what}: new");
        check_tag(&what, &notice.tag, |tag| {
            let fields = (notice.v, notice.token_id.as_str(), notice.kind.name(), notice.at, tag);
            verify_token_notice(fields, &keys.request).is_ok()
        });
        assert_eq!(notice.verify(&keys.channel), Err(Error::BadTag), "{what}: K_chan");
        for other in NoticeKind::ALL.into_iter().filter(|k| *k != notice.kind) {
            let mut changed = notice.clone();
            changed.kind = other;
            let verified = changed.verify(&keys.request);
            assert_eq!(verified, Err(Error::BadTag), "{what}: {}", other.name());
        }
        count += 1;
    }

    // §5 answers: rebuilt by the device's builders, checked by the server.
    for v in &file.answers {
        let what = format!("{source} answer {}", v.name);
        let answer: Answer = serde_json::from_value(v.json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&answer).unwrap(), v.json, "{what}");
        let request = &requests[v.request];
        let built = match answer.decision {
            Decision::Approve => Answer::approve(
                request,
                answer.number,
                answer.passcode.as_deref().unwrap(),
                None,
                answer.answered_at,
                &keys.channel,
                &keys.answer,
            )
            .unwrap(),
            Decision::Deny => Answer::deny(request, answer.answered_at, &keys.channel),
            Decision::Report => Answer::report(request, answer.answered_at, &keys.channel),
        };
        assert_eq!(built, answer, "{what}: built");
        assert_eq!(answer.canonical_device().as_bytes(), hex(&v.device_canonical_hex), "{what}");
        assert_eq!(answer.canonical_answer().as_bytes(), hex(&v.answer_canonical_hex), "{what}");
        assert_eq!(answer.device_tag.to_vec(), hex(&v.device_tag_hex), "{what}");
        assert_eq!(answer.answer_tag.map(|t| t.to_vec()), v.answer_tag_hex.as_deref().map(hex));
        check_tag(&format!("{what} deviceTag"), &answer.device_tag, |tag| {
            let mut a = answer.clone();
            a.device_tag = tag.try_into().unwrap();
            a.verify_device_tag(&keys.channel).is_ok()
        });
        if let Some(answer_tag) = answer.answer_tag {
            check_tag(&format!("{what} answerTag"), &answer_tag, |tag| {
                let mut a = answer.clone();
                a.answer_tag = Some(tag.try_into().unwrap());
                a.verify_answer_tag(&keys.answer).is_ok()
            });
            assert_eq!(answer.verify_answer_tag(&keys.channel), Err(Error::BadTag), "{what}");
        } else {
            assert_eq!(answer.verify_answer_tag(&keys.answer), Err(Error::BadTag), "{what}");
        }
        let mut bad = answer.clone();
        bad.answered_at += 1;
        assert_eq!(bad.verify_device_tag(&keys.channel), Err(Error::BadTag), "{what}: time");
        if let Some(passcode) = &answer.passcode {
            // The request-bound passcode (§5): the OCRA response to the request id.
            let otp = OtpParams::new(Algorithm::Sha1, 6).unwrap();
            assert_eq!(&otp.passcode(&keys.otp, &request.id).unwrap(), passcode, "{what}");
            assert!(otp.verify_passcode(&keys.otp, &request.id, passcode), "{what}");
        }
        count += 1;
    }

    // §3 and §5 for each passcode hash and length: the enrollment answer's tag, then the
    // approval of request 0 with its OCRA passcode (RFC 6287), built by the device and
    // checked by the server.
    for v in &file.approvals {
        let what = format!("{source} approval {} {}", v.algorithm, v.digits);
        let otp = OtpParams::new(v.algorithm, v.digits).unwrap();
        assert_eq!(otp.suite().to_string(), v.suite, "{what}");
        let suite: OcraSuite = v.suite.parse().unwrap();
        let enrolled: Enrolled = serde_json::from_value(v.enrolled.json.clone()).unwrap();
        assert_eq!(enrolled.otp, otp, "{what}");
        assert_eq!(serde_json::to_value(&enrolled).unwrap(), v.enrolled.json, "{what}");
        let input = enrolled.canonical(&device_nonce);
        assert_eq!(input.as_bytes(), hex(&v.enrolled.canonical_hex), "{what}");
        assert_eq!(enrolled.tag.to_vec(), hex(&v.enrolled.tag_hex), "{what}");
        let token = enrolled.verify(&a, &request).unwrap();
        assert_eq!(token.otp, secret(&k.otp_hex[&v.algorithm]), "{what}: K_otp");
        let mut resigned = enrolled.clone();
        resigned.tag = [0; 32];
        resigned.sign(&a, &request).unwrap();
        assert_eq!(resigned, enrolled, "{what}: sign");

        let id = &requests[v.answer.request].id;
        let question: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let by_suite = suite.compute(&token.otp, &OcraInput::new().question(question)).unwrap();
        assert_eq!(by_suite, v.passcode, "{what}: OCRA");
        assert_eq!(otp.passcode(&token.otp, id).unwrap(), v.passcode, "{what}: passcode");
        let answer: Answer = serde_json::from_value(v.answer.json.clone()).unwrap();
        assert_eq!(answer.passcode.as_deref(), Some(v.passcode.as_str()), "{what}");
        let built = Answer::approve(
            &requests[v.answer.request],
            answer.number,
            &v.passcode,
            None,
            answer.answered_at,
            &token.channel,
            &token.answer,
        )
        .unwrap();
        assert_eq!(built, answer, "{what}: built");
        assert_eq!(serde_json::to_value(&built).unwrap(), v.answer.json, "{what}");
        assert_eq!(built.canonical_device().as_bytes(), hex(&v.answer.device_canonical_hex));
        assert_eq!(built.canonical_answer().as_bytes(), hex(&v.answer.answer_canonical_hex));
        assert_eq!(built.device_tag.to_vec(), hex(&v.answer.device_tag_hex), "{what}");
        assert_eq!(
            built.answer_tag.map(|t| t.to_vec()),
            v.answer.answer_tag_hex.as_deref().map(hex)
        );
        built.verify_device_tag(&token.channel).unwrap();
        built.verify_answer_tag(&token.answer).unwrap();
        assert!(otp.verify_passcode(&token.otp, id, &v.passcode), "{what}");
        let mut other = *id;
        other[0] ^= 1;
        assert!(!otp.verify_passcode(&token.otp, &other, &v.passcode), "{what}: other request");
        count += 1;
    }

    // §7 device channel.
    let token = inputs.token_id.as_str();
    let k_chan = &keys.channel;
    let v = &file.channel_auth;
    let nonce: [u8; 16] = array(v.nonce_hex.as_deref().unwrap());
    assert_eq!(channel_auth_input(token, &nonce).as_bytes(), hex(&v.canonical_hex), "channel");
    assert_eq!(channel_auth_tag(k_chan, token, &nonce).to_vec(), hex(&v.tag_hex), "channel");
    check_tag("channel-auth", &hex(&v.tag_hex), |tag| {
        verify_channel_auth(k_chan, token, &nonce, tag).is_ok()
    });
    let v = &file.poll;
    let at = v.at.unwrap();
    assert_eq!(poll_input(token, at).as_bytes(), hex(&v.canonical_hex), "poll");
    assert_eq!(poll_tag(k_chan, token, at).to_vec(), hex(&v.tag_hex), "poll");
    check_tag("poll", &hex(&v.tag_hex), |tag| verify_poll(k_chan, token, at, tag, at).is_ok());
    let v = &file.webpush;
    let (at, sub) = (v.at.unwrap(), v.subscription.as_ref().unwrap());
    assert_eq!(webpush_input(token, at, sub).as_bytes(), hex(&v.canonical_hex), "webpush");
    assert_eq!(webpush_tag(k_chan, token, at, sub).to_vec(), hex(&v.tag_hex), "webpush");
    check_tag("webpush", &hex(&v.tag_hex), |tag| {
        verify_webpush(k_chan, token, at, sub, tag, at).is_ok()
    });
    let v = &file.remove;
    let at = v.at.unwrap();
    assert_eq!(remove_input(token, at).as_bytes(), hex(&v.canonical_hex), "remove");
    assert_eq!(remove_tag(k_chan, token, at).to_vec(), hex(&v.tag_hex), "remove");
    check_tag("remove", &hex(&v.tag_hex), |tag| verify_remove(k_chan, token, at, tag, at).is_ok());
    assert_eq!(verify_remove(k_chan, token, at, &hex(&v.tag_hex), at + 61), Err(Error::Expired));
    count += 4;

    // §6 PIN masking with the protocol's Argon2id costs.
    let p = &file.pin;
    assert_eq!(p.params, pushotp::push::PinParams::default(), "{source} PIN costs");
    let salt: [u8; 16] = array(&p.salt_hex);
    let masked = MaskedKeys::mask(&keys.otp, &keys.answer, &p.pin, salt).unwrap();
    assert_eq!(masked.masked, hex(&p.masked_hex), "{source} masked keys");
    assert_eq!(serde_json::to_value(&masked).unwrap(), p.masked, "{source} masked JSON");
    let stored: MaskedKeys = serde_json::from_value(p.masked.clone()).unwrap();
    assert_eq!(stored.unmask(&p.pin).unwrap(), (keys.otp.clone(), keys.answer.clone()));
    let (otp, answer) = stored.unmask(&p.wrong_pin).unwrap();
    assert_eq!(otp, secret(&p.wrong_otp_hex), "{source} wrong PIN K_otp");
    assert_eq!(answer, secret(&p.wrong_answer_hex), "{source} wrong PIN K_ans");
    count += 1;
    // The same for the longer K_otp of SHA-256 and SHA-512 tokens: the pad is as long as both
    // keys together (RFC 9106 §3.2, tag length T).
    assert_eq!(file.pin_longer_keys.len(), 2, "{source}: SHA-256 and SHA-512");
    for p in &file.pin_longer_keys {
        let alg = p.algorithm;
        let k_otp = secret(&file.keys.otp_hex[&alg]);
        let salt: [u8; 16] = array(&p.salt_hex);
        let masked = MaskedKeys::mask(&k_otp, &keys.answer, &p.pin, salt).unwrap();
        assert_eq!(masked.masked, hex(&p.masked_hex), "{source} {alg} masked keys");
        assert_eq!(serde_json::to_value(&masked).unwrap(), p.masked, "{source} {alg} masked JSON");
        let stored: MaskedKeys = serde_json::from_value(p.masked.clone()).unwrap();
        assert_eq!(stored.unmask(&p.pin).unwrap(), (k_otp, keys.answer.clone()), "{alg}");
        let (otp, answer) = stored.unmask(&p.wrong_pin).unwrap();
        assert_eq!(otp, secret(&p.wrong_otp_hex), "{source} {alg} wrong PIN K_otp");
        assert_eq!(answer, secret(&p.wrong_answer_hex), "{source} {alg} wrong PIN K_ans");
        count += 1;
    }

    // §8 restore: the device's request, the new keys, the server's answer, and the refusal of
    // the copy that still holds the old keys.
    let v = &file.restore;
    let (k_req, k_chan) = (&keys.request, &keys.channel);
    let nonce: [u8; 16] = array(&v.inputs.nonce_hex);
    let request = RestoreRequest::new(token, nonce, k_chan).unwrap();
    assert_eq!(request.canonical().as_bytes(), hex(&v.canonical_hex), "{source} restore");
    assert_eq!(restore_input(token, &nonce).as_bytes(), hex(&v.canonical_hex), "{source} restore");
    assert_eq!(request.tag.to_vec(), hex(&v.tag_hex), "{source} restore");
    assert_eq!(serde_json::to_value(&request).unwrap(), v.json, "{source} restore JSON");
    let sent: RestoreRequest = serde_json::from_value(v.json.clone()).unwrap();
    check_tag("restore", &hex(&v.tag_hex), |tag| {
        RestoreRequest { tag: tag.try_into().unwrap(), ..sent.clone() }.verify(k_chan).is_ok()
    });
    assert_eq!(sent.verify(k_req), Err(Error::BadTag));
    let k = &file.restored_keys;
    let (new_req, new_chan) = restored_keys(k_chan, &nonce);
    assert_eq!(new_req, secret(&k.request_hex), "{source} restored K_req");
    assert_eq!(new_chan, secret(&k.channel_hex), "{source} restored K_chan");
    let v = &file.restored;
    let answer = Restored::new(&request, file.restore.inputs.counter, &new_chan);
    assert_eq!(answer.canonical().as_bytes(), hex(&v.canonical_hex), "{source} restored");
    assert_eq!(answer.tag.to_vec(), hex(&v.tag_hex), "{source} restored");
    assert_eq!(serde_json::to_value(&answer).unwrap(), v.json, "{source} restored JSON");
    let got: Restored = serde_json::from_value(v.json.clone()).unwrap();
    assert_eq!(got.verify(&request, k_chan).unwrap(), (new_req, new_chan.clone()));
    check_tag("restored", &hex(&v.tag_hex), |tag| {
        Restored { tag: tag.try_into().unwrap(), ..got.clone() }.verify(&request, k_chan).is_ok()
    });
    let v = &file.restored_elsewhere;
    assert_eq!(restored_elsewhere_input(token).as_bytes(), hex(&v.canonical_hex), "elsewhere");
    assert_eq!(restored_elsewhere_tag(k_req, token).to_vec(), hex(&v.tag_hex), "elsewhere");
    check_tag("restored-elsewhere", &hex(&v.tag_hex), |tag| {
        verify_restored_elsewhere(k_req, token, tag).is_ok()
    });
    count += 4;

    // §5 the sign-in code in the reply to an approval, under the token's K_req.
    let v = &file.login_code;
    let request: PushRequest =
        serde_json::from_value(file.requests[v.request].json.clone()).unwrap();
    let (id, token, code) = (&request.id, request.token_id.as_str(), v.login_code.as_str());
    let k_req = &keys.request;
    assert_eq!(login_code_input(id, token, code).as_bytes(), hex(&v.canonical_hex), "login code");
    assert_eq!(login_code_tag(k_req, id, token, code).unwrap().to_vec(), hex(&v.tag_hex));
    check_tag("login-code", &hex(&v.tag_hex), |tag| {
        verify_login_code(k_req, id, token, code, tag).is_ok()
    });
    assert_eq!(
        verify_login_code(&keys.channel, id, token, code, &hex(&v.tag_hex)),
        Err(Error::BadTag)
    );
    count += 1;

    // §5 same-browser approvals: the request's commitment to its login page's binding, the
    // request carrying it, and the bound approval built by the device and checked by the server.
    let v = &file.page_binding;
    let binding: [u8; 16] = array(&v.binding_hex);
    let request: PushRequest = serde_json::from_value(v.request.json.clone()).unwrap();
    let (id, token) = (&request.id, request.token_id.as_str());
    assert_eq!(binding_hash_input(id, token).as_bytes(), hex(&v.hash_canonical_hex), "binding");
    assert_eq!(binding_hash(&binding, id, token).unwrap().to_vec(), hex(&v.hash_hex));
    assert_eq!(request.binding_hash.map(|h| h.to_vec()), Some(hex(&v.hash_hex)));
    check_tag("bindingHash", &hex(&v.hash_hex), |hash| {
        hash.try_into().is_ok_and(|hash: [u8; 32]| binding_matches(&binding, id, token, &hash))
    });
    assert_eq!(request.canonical().as_bytes(), hex(&v.request.canonical_hex), "bound request");
    assert_eq!(request.tag.to_vec(), hex(&v.request.tag_hex), "bound request");
    request.verify(k_req, request.created_at).unwrap();
    assert!(request.binding_matches(&binding));
    let answer: Answer = serde_json::from_value(v.answer.json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&answer).unwrap(), v.answer.json, "bound answer");
    assert_eq!(answer.binding, Some(binding));
    assert_eq!(v.answer.json["binding"], v.binding.as_str());
    let passcode = answer.passcode.as_deref().unwrap();
    let built = Answer::approve(
        &request,
        None,
        passcode,
        Some(&binding),
        answer.answered_at,
        &keys.channel,
        &keys.answer,
    )
    .unwrap();
    assert_eq!(built, answer, "bound answer: built");
    assert_eq!(answer.canonical_device().as_bytes(), hex(&v.answer.device_canonical_hex));
    assert_eq!(answer.canonical_answer().as_bytes(), hex(&v.answer.answer_canonical_hex));
    assert_eq!(answer.device_tag.to_vec(), hex(&v.answer.device_tag_hex));
    assert_eq!(answer.answer_tag.map(|t| t.to_vec()), v.answer.answer_tag_hex.as_deref().map(hex));
    answer.verify_device_tag(&keys.channel).unwrap();
    answer.verify_answer_tag(&keys.answer).unwrap();
    assert!(answer.is_bound(&request));
    // Bound to that request only: request 0 without the hash binds nothing.
    assert!(!answer.is_bound(&requests[v.answer.request]));
    count += 1;

    report!("vectors: {count} push protocol vectors passed");
}
