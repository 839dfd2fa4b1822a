//! Bad input never panics: every public parser and constructor gets empty, huge, non-UTF-8,
//! wrong-scheme, bad-base32 and out-of-range input, fixed and random, and must answer with a
//! typed error (or, for random input that happens to be valid, a value).

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, reason = "a panic is a test failure")]

use proptest::prelude::*;
use pushotp::push::{ActivationLink, Answer, Enrolled, PushRequest};
use pushotp::{
    Algorithm, Error, Hotp, OcraInput, OcraSuite, Secret, TokenUri, Totp, import_migration,
};

/// Runs every text parser on `input` and returns the errors' codes.
fn parse_everything(input: &str) -> Vec<&'static str> {
    let mut codes = Vec::new();
    let mut note = |result: Result<(), Error>| {
        if let Err(err) = result {
            codes.push(err.code());
        }
    };
    note(Secret::from_base32(input).map(drop));
    note(input.parse::<Algorithm>().map(drop));
    note(input.parse::<TokenUri>().map(drop));
    note(import_migration(input).map(drop));
    note(input.parse::<OcraSuite>().map(drop));
    note(input.parse::<ActivationLink>().map(drop));
    // OCRA inputs: the text as a question to a suite of each format.
    for suite in ["OCRA-1:HOTP-SHA1-6:QN08", "OCRA-1:HOTP-SHA1-6:QA64", "OCRA-1:HOTP-SHA1-6:QH40"] {
        let suite: OcraSuite = suite.parse().unwrap();
        let key = Secret::from_bytes(vec![7u8; 20]).unwrap();
        note(suite.compute(&key, &OcraInput::new().question(input)).map(drop));
    }
    // A code to verify.
    let key = Secret::from_bytes(vec![7u8; 20]).unwrap();
    note(Totp::default().verify(&key, input, 1_000_000, pushotp::Window::ONE_STEP).map(drop));
    note(Hotp::default().verify(&key, input, 0, 3).map(drop));
    codes
}

fn base32_of(bytes: &[u8]) -> String {
    Secret::from_bytes(bytes.to_vec()).unwrap().to_base32()
}

#[test]
fn fixed_malformed_inputs_get_typed_errors() {
    let huge = "A".repeat(1 << 20);
    let non_utf8 = String::from_utf8_lossy(&[0xff, 0xfe, 0x80, b'o', b't', b'p']).into_owned();
    let cases = [
        ("empty", String::new()),
        ("huge", huge.clone()),
        ("huge URI", format!("otpauth://totp/a?secret={huge}")),
        ("huge migration", format!("otpauth-migration://offline?data={huge}")),
        ("non-UTF-8 bytes", non_utf8),
        ("percent-encoded non-UTF-8 label", "otpauth://totp/%FF%FE?secret=JBSWY3DP".into()),
        ("wrong scheme", "https://example.com/?secret=JBSWY3DP".into()),
        ("bad base32", "otpauth://totp/a?secret=JBSW1!".into()),
        ("digits 5", "otpauth://totp/a?secret=JBSWY3DP&digits=5".into()),
        ("digits 11", "otpauth://totp/a?secret=JBSWY3DP&digits=11".into()),
        ("digits huge", "otpauth://totp/a?secret=JBSWY3DP&digits=99999999999999999999".into()),
        ("period 0", "otpauth://totp/a?secret=JBSWY3DP&period=0".into()),
        ("period negative", "otpauth://totp/a?secret=JBSWY3DP&period=-30".into()),
        ("period huge", "otpauth://totp/a?secret=JBSWY3DP&period=99999999999".into()),
        ("hotp without counter", "otpauth://hotp/a?secret=JBSWY3DP".into()),
        ("migration not base64", "otpauth-migration://offline?data=%%%%".into()),
        ("migration not protobuf", "otpauth-migration://offline?data=AAAAAAAA".into()),
        ("OCRA version 2", "OCRA-2:HOTP-SHA1-6:QN08".into()),
        ("NUL bytes", "\0\0\0otpauth://totp/\0?secret=\0".into()),
    ];
    for (name, input) in &cases {
        let codes = parse_everything(input);
        assert!(!codes.is_empty(), "{name}: something accepted it");
        for code in codes {
            assert!(!code.is_empty(), "{name}");
        }
    }
    // Every text parser refuses the empty string outright.
    assert_eq!(parse_everything("").len(), 11, "each parser refuses empty input");
}

#[test]
fn constructors_refuse_out_of_range_numbers() {
    for digits in [0u8, 1, 5, 11, 200, 255] {
        assert!(matches!(Hotp::new(Algorithm::Sha1, digits), Err(Error::InvalidDigits { .. })));
        assert!(matches!(
            Totp::new(Algorithm::Sha1, digits, 30, 0),
            Err(Error::InvalidDigits { .. })
        ));
    }
    for period in [0u64, 86_401, u64::MAX] {
        assert!(matches!(
            Totp::new(Algorithm::Sha1, 6, period, 0),
            Err(Error::InvalidPeriod { .. })
        ));
    }
    assert_eq!(Secret::from_bytes(Vec::new()), Err(Error::EmptySecret));
    assert!(matches!(Secret::from_bytes(vec![0; 4096]), Err(Error::TooLong { .. })));
    let totp = Totp::new(Algorithm::Sha1, 6, 30, u64::MAX).unwrap();
    assert_eq!(
        totp.generate(&Secret::from_bytes(vec![1]).unwrap(), 0),
        Err(Error::TimeBeforeEpoch)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(input in ".{0,300}") {
        parse_everything(&input);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        parse_everything(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_uris_never_panic(
        kind in "(totp|hotp|TOTP|xotp|)",
        label in "[A-Za-z0-9:%@ +./-]{0,40}",
        params in proptest::collection::vec(
            ("(secret|issuer|algorithm|digits|period|counter|image|SECRET)", "[A-Za-z0-9%=+ -]{0,40}"),
            0..8,
        ),
    ) {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parse_everything(&format!("otpauth://{kind}/{label}?{}", query.join("&")));
    }

    #[test]
    fn random_activation_links_never_panic(
        path in "(enroll|ENROLL|enrol|)",
        params in proptest::collection::vec(
            ("(v|server|token|secret|exp|x)", "[A-Za-z0-9%:/.=+_ -]{0,40}"),
            0..7,
        ),
    ) {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parse_everything(&format!("pushotp://{path}?{}", query.join("&")));
    }

    #[test]
    fn every_valid_activation_link_round_trips(
        secret in proptest::collection::vec(any::<u8>(), 20..=20),
        host in "[a-z0-9.-]{1,30}(:[0-9]{1,5})?",
        path in "(/[A-Za-z0-9%~._-]{1,10}){0,3}",
        token in "[A-Za-z0-9_-]{1,64}",
        exp in any::<u64>(),
    ) {
        let server = format!("https://{host}{path}");
        let link = ActivationLink::new(&server, &token, Secret::from_bytes(secret).unwrap(), exp)
            .unwrap();
        let again: ActivationLink = link.to_string().parse().unwrap();
        prop_assert_eq!(link, again);
    }

    #[test]
    fn random_protocol_json_never_panics(
        json in r#"\{("(v|id|tokenId|app|place|choices|tag|decision|number|otp|pin)":("[A-Za-z0-9_-]{0,50}"|-?[0-9]{1,25}|null|\[[0-9,]{0,12}\]),?){0,8}\}"#,
    ) {
        let key = Secret::from_bytes(vec![7u8; 32]).unwrap();
        if let Ok(request) = serde_json::from_str::<PushRequest>(&json) {
            let _ = request.verify(&key, 0);
        }
        if let Ok(answer) = serde_json::from_str::<Answer>(&json) {
            let _ = answer.verify_device_tag(&key);
        }
        let _ = serde_json::from_str::<Enrolled>(&json);
    }

    #[test]
    fn every_valid_totp_uri_round_trips(
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        digits in 6u8..=10,
        period in 1u64..=86_400,
        account in "[a-z0-9.@]{1,20}",
    ) {
        let uri = format!(
            "otpauth://totp/{account}?secret={}&digits={digits}&period={period}",
            base32_of(&secret)
        );
        let token: TokenUri = uri.parse().unwrap();
        let again: TokenUri = token.to_string().parse().unwrap();
        prop_assert_eq!(token, again);
    }

    #[test]
    fn random_ocra_suites_never_panic(
        function in "(HOTP-SHA1-6|HOTP-SHA256-8|HOTP-SHA512-10|HOTP-SHA1-0|HOTP-SHA1-3|HOTP-MD5-6|X)",
        data in "(C-)?Q[ANHX][0-9]{2}(-P(SHA1|SHA3|X))?(-S[0-9]{3})?(-T[0-9]{1,2}[SMHX])?",
    ) {
        let suite = format!("OCRA-1:{function}:{data}");
        if let Ok(parsed) = suite.parse::<OcraSuite>() {
            prop_assert_eq!(parsed.to_string(), suite);
        }
    }
}
