//! What a process costs, read from Linux's `/proc`: resident memory and CPU time. Works for the
//! server the load generator started, a server given by its process id, and the load generator
//! itself (so that the report shows how much of the two cores the generator took).

use std::time::{Duration, Instant};

use anyhow::Context;

/// Linux reports CPU times in clock ticks of `USER_HZ`, which is 100 on every architecture
/// Linux supports for user space (`sysconf(_SC_CLK_TCK)`).
const TICKS_PER_SECOND: f64 = 100.0;

/// A process to measure: `None` is the load generator itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Process(pub(crate) Option<u32>);

impl Process {
    fn path(self, file: &str) -> String {
        match self.0 {
            Some(pid) => format!("/proc/{pid}/{file}"),
            None => format!("/proc/self/{file}"),
        }
    }

    /// Resident memory (`VmRSS`) in bytes.
    pub(crate) fn rss(self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(self.path("status"))?;
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .context("no VmRSS line (not Linux?)")?;
        let kib: u64 = line.trim().trim_end_matches("kB").trim().parse()?;
        Ok(kib * 1024)
    }

    /// User plus system CPU time so far, all threads.
    pub(crate) fn cpu(self) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(self.path("stat"))?;
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis
        // start with field 3 (state). utime and stime are fields 14 and 15.
        let after = stat.rsplit_once(')').context("unreadable stat")?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| -> anyhow::Result<u64> {
            Ok(fields.get(i).context("short stat")?.parse::<u64>()?)
        };
        let total = ticks(11)? + ticks(12)?;
        Ok(Duration::from_secs_f64(total as f64 / TICKS_PER_SECOND))
    }
}

/// CPU use of a process over an interval, as a share of one core (1.0 = one core busy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuWindow {
    process: Process,
    cpu: Duration,
    at: Instant,
}

impl CpuWindow {
    /// Starts measuring now.
    pub(crate) fn start(process: Process) -> Self {
        Self { process, cpu: process.cpu().unwrap_or_default(), at: Instant::now() }
    }

    /// Cores used on average since [`start`](Self::start).
    pub(crate) fn cores(&self) -> f64 {
        let used = self.process.cpu().unwrap_or_default().saturating_sub(self.cpu);
        let wall = self.at.elapsed().as_secs_f64();
        if wall > 0.0 { used.as_secs_f64() / wall } else { 0.0 }
    }
}

/// The highest resident memory of a process, sampled every 100 ms while a step runs.
pub(crate) struct PeakRss {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<u64>,
}

impl PeakRss {
    /// Starts sampling.
    pub(crate) fn start(process: Process) -> Self {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut peak = process.rss().unwrap_or(0);
            loop {
                tokio::select! {
                    _ = stopped.changed() => return peak,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {
                        peak = peak.max(process.rss().unwrap_or(0));
                    }
                }
            }
        });
        Self { stop, task }
    }

    /// Stops sampling; the peak in bytes.
    pub(crate) async fn finish(self) -> u64 {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(0)
    }
}

/// Bytes as MiB with one decimal.
pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
