//! `otpauth-migration://offline?data=…` links (Google Authenticator's export: base64 of a
//! protobuf): what imports must export and import again to the same tokens.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pushotp::{export_migration, import_migration};

fuzz_target!(|data: &[u8]| {
    let Some(text) = pushotp_fuzz::text(data) else { return };
    let Ok(batch) = import_migration(text) else { return };
    // An export holds at most what one link carries; a batch that imports always fits.
    let link = export_migration(&batch.tokens).expect("imported tokens export");
    let back = import_migration(&link).expect("an exported link imports");
    assert_eq!(back.tokens, batch.tokens, "migration round trip");
});
