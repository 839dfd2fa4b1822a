//! Open-loop load: logins start on a fixed schedule whatever the server does, and each login's
//! latency counts from the moment it was *scheduled*, not from when the generator got round to
//! it. A slow server therefore shows up as latency instead of quietly lowering the offered rate
//! (the "coordinated omission" a closed loop of N clients suffers).

use std::future::Future;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

/// What one step (one offered rate) gave.
pub(crate) struct Outcome {
    /// Logins per second asked for.
    pub(crate) rate: f64,
    /// Logins started.
    pub(crate) offered: usize,
    /// Logins that completed as approved.
    pub(crate) ok: usize,
    /// Logins that failed or were refused.
    pub(crate) failed: usize,
    /// Logins that did not finish within the per-login limit.
    pub(crate) timed_out: usize,
    /// From the first scheduled start to the last completion.
    pub(crate) wall: Duration,
    /// Latencies of the approved logins, in microseconds.
    pub(crate) latency: Histogram<u64>,
    /// The first few failures, for the report.
    pub(crate) errors: Vec<String>,
}

impl Outcome {
    /// Approved logins per second over the step.
    pub(crate) fn throughput(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 { self.ok as f64 / wall } else { 0.0 }
    }

    /// A latency quantile in milliseconds.
    pub(crate) fn ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// The largest latency in milliseconds.
    pub(crate) fn max_ms(&self) -> f64 {
        self.latency.max() as f64 / 1000.0
    }
}

/// Starts `count` logins at `rate` per second (each made by `login(i)`), waits for all of them
/// (each for at most `limit`), and measures.
pub(crate) async fn run<F, Fut>(
    rate: f64,
    count: usize,
    limit: Duration,
    login: F,
) -> anyhow::Result<Outcome>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / rate);
    let first = Instant::now() + Duration::from_millis(20);
    let mut set = JoinSet::new();
    for i in 0..count {
        let at = first + interval.saturating_mul(u32::try_from(i).unwrap_or(u32::MAX));
        tokio::time::sleep_until(at.into()).await;
        let work = login(i);
        set.spawn(async move {
            let result = tokio::time::timeout(limit, work).await;
            (at, Instant::now(), result)
        });
    }
    // Three significant figures from 1 µs to 10 minutes.
    let mut latency = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let (mut ok, mut failed, mut timed_out) = (0, 0, 0);
    let mut errors = Vec::new();
    let mut last = first;
    while let Some(joined) = set.join_next().await {
        let Ok((at, done, result)) = joined else {
            failed += 1;
            continue;
        };
        last = last.max(done);
        match result {
            Ok(Ok(())) => {
                ok += 1;
                let micros = u64::try_from(done.duration_since(at).as_micros()).unwrap_or(u64::MAX);
                let _ = latency.record(micros.max(1));
            }
            Ok(Err(err)) => {
                failed += 1;
                if errors.len() < 5 {
                    errors.push(format!("{err:#}"));
                }
            }
            Err(_) => timed_out += 1,
        }
    }
    Ok(Outcome {
        rate,
        offered: count,
        ok,
        failed,
        timed_out,
        wall: last.duration_since(first),
        latency,
        errors,
    })
}
