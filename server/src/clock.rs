//! The server's clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Whole Unix seconds now. The only clock the server reads; the core takes time as a parameter.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A time or a duration in whole seconds as the database stores it (`BIGINT`).
pub(crate) fn secs(seconds: u64) -> anyhow::Result<i64> {
    Ok(i64::try_from(seconds)?)
}
