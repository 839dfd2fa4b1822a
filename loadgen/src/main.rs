//! `pushotp-loadgen`: a load generator for PushOTP's reference server, on loopback only.
//!
//! It enrolls N devices over the real API, holds their WebSockets, and runs complete push
//! logins (start the login → the device receives the request → it answers with the number the
//! login page shows → the page's event stream reports approved) at several offered rates,
//! open-loop. It reports logins per second, p50/p99/max latency, the server's resident memory
//! per held connection and its CPU; then runs the same complete flow against privacyIDEA 3.14
//! in poll-only mode and reports the ratio. Every step is bounded in count and time, and the
//! generator stops by itself.
//!
//! ```sh
//! cargo build --profile server -p pushotp-server -p pushotp-loadgen
//! target/server/pushotp-loadgen            # starts target/server/pushotp-server itself
//! ```
//!
//! The password step of each login (Argon2id) runs before the timed part and is not measured:
//! what is timed starts at "Use my mobile" (`POST /auth/push`).

#![allow(clippy::print_stdout, reason = "a command-line program prints its report")]
#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json Value yields Null, never panics"
)]

mod meter;
mod openloop;
mod privacyidea;
mod pushotp;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use clap::Parser;
use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

use crate::meter::{CpuWindow, PeakRss, Process, mib};
use crate::openloop::Outcome;

/// Largest number of devices, logins per step and seconds per step the generator accepts.
const MAX_DEVICES: usize = 50_000;
const MAX_LOGINS_PER_STEP: usize = 60_000;
const MAX_STEP_SECONDS: f64 = 60.0;

#[derive(Parser)]
#[command(about = "Load generator for PushOTP's reference server (loopback only)")]
struct Args {
    /// Attach to a running server at this URL (http://127.0.0.1:PORT) instead of starting one.
    /// Needs --database and --key-file of that server for the administrator's set-up.
    #[arg(long)]
    url: Option<String>,
    /// The attached server's database URL.
    #[arg(long)]
    database: Option<String>,
    /// The attached server's key file.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// The attached server's process id, for memory and CPU readings.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server binary to start (default: `pushotp-server` beside this program).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// RUST_LOG of the started server.
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Devices to enroll and keep connected (one person and one token each).
    #[arg(long, default_value_t = 10_000)]
    devices: usize,
    /// Offered rates, logins per second, one step each.
    #[arg(long, value_delimiter = ',', default_values_t = [250.0, 500.0, 1000.0, 1250.0])]
    rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 4.0)]
    duration: f64,
    /// How many times to run all steps (for median and spread).
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Loopback source addresses to spread the device sockets over (127.0.0.1, .2, …).
    #[arg(long, default_value_t = 4)]
    sources: u8,
    /// Password steps run at once while preparing a step.
    #[arg(long, default_value_t = 8)]
    password_concurrency: usize,
    /// A login that takes longer than this many seconds counts as timed out.
    #[arg(long, default_value_t = 10)]
    limit: u64,
    /// Skip the PushOTP part.
    #[arg(long)]
    no_pushotp: bool,
    /// Skip the privacyIDEA part.
    #[arg(long)]
    no_privacyidea: bool,
    /// privacyIDEA's offered rates, logins per second.
    #[arg(long, value_delimiter = ',', default_values_t = [2.0, 5.0, 10.0])]
    pi_rates: Vec<f64>,
    /// Seconds per privacyIDEA step.
    #[arg(long, default_value_t = 10.0)]
    pi_duration: f64,
    /// privacyIDEA tokens (devices), each lent to one login at a time.
    #[arg(long, default_value_t = 16)]
    pi_devices: usize,
    /// The script that installs and starts privacyIDEA.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/privacyidea.sh"))]
    pi_script: PathBuf,
}

fn check(args: &Args) -> anyhow::Result<()> {
    ensure!((1..=MAX_DEVICES).contains(&args.devices), "--devices must be 1 to {MAX_DEVICES}");
    ensure!(args.duration > 0.0 && args.duration <= MAX_STEP_SECONDS, "--duration is 0 to 60 s");
    ensure!(
        args.pi_duration > 0.0 && args.pi_duration <= MAX_STEP_SECONDS,
        "--pi-duration is 0 to 60 s"
    );
    ensure!((1..=10).contains(&args.runs), "--runs is 1 to 10");
    ensure!((1..=250).contains(&args.sources), "--sources is 1 to 250");
    for rate in args
        .rates
        .iter()
        .map(|r| (r, args.duration))
        .chain(args.pi_rates.iter().map(|r| (r, args.pi_duration)))
    {
        let (rate, duration) = rate;
        ensure!(*rate > 0.0, "rates must be positive");
        ensure!(
            rate * duration <= MAX_LOGINS_PER_STEP as f64,
            "at most {MAX_LOGINS_PER_STEP} logins per step"
        );
    }
    if let Some(url) = &args.url {
        ensure!(
            url.starts_with("http://127.") || url.starts_with("http://localhost"),
            "loopback only: the URL must be http://127.x.x.x:PORT"
        );
    }
    Ok(())
}

/// Logins in a step: `rate` per second for `seconds` (both checked positive and bounded).
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "check() bounds rate × seconds to 1..=MAX_LOGINS_PER_STEP"
)]
fn logins(rate: f64, seconds: f64) -> usize {
    ((rate * seconds).round() as usize).clamp(1, MAX_LOGINS_PER_STEP)
}

/// A socket is a file: thousands of them need a higher open-file limit than the usual 1024.
/// Raises the soft limit to the hard one, and the hard one too where the process may.
fn raise_open_files(want: u64) -> u64 {
    let _ = rlimit::setrlimit(rlimit::Resource::NOFILE, want, want);
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

/// One row of a report table.
fn row(outcome: &Outcome, server_cpu: Option<f64>, own_cpu: f64, peak: Option<u64>) -> String {
    format!(
        "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.0} % | {} |",
        per_second(outcome.rate),
        outcome.offered,
        outcome.ok,
        per_second(outcome.throughput()),
        outcome.ms(0.5),
        outcome.ms(0.99),
        outcome.max_ms(),
        server_cpu.map_or("-".into(), |c| format!("{:.0} %", c * 100.0)),
        own_cpu * 100.0,
        peak.map_or("-".into(), mib),
    )
}

/// A rate with a decimal where it is small (privacyIDEA's are).
fn per_second(rate: f64) -> String {
    if rate < 20.0 { format!("{rate:.1}") } else { format!("{rate:.0}") }
}

const HEADER: &str = "| offered /s | logins | approved | approved /s | p50 ms | p99 ms | max ms | server CPU | generator CPU | server RSS peak |\n|---|---|---|---|---|---|---|---|---|---|";

/// Results of one server, per rate.
#[derive(Default)]
struct Summary {
    /// (rate, approved per second, p50 ms, share approved) of every step.
    steps: Vec<(f64, f64, f64, f64)>,
}

impl Summary {
    /// The best throughput among steps where nearly every login was approved.
    fn best(&self) -> f64 {
        self.steps.iter().filter(|s| s.3 >= 0.99).map(|s| s.1).fold(0.0, f64::max)
    }

    /// Median p50 at the lowest offered rate.
    fn low_rate_p50(&self) -> f64 {
        let lowest = self.steps.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
        let mut p50: Vec<f64> = self.steps.iter().filter(|s| s.0 == lowest).map(|s| s.2).collect();
        p50.sort_by(f64::total_cmp);
        p50.get(p50.len() / 2).copied().unwrap_or(0.0)
    }
}

fn report(outcome: &Outcome, cpu: Option<f64>, own: f64, peak: Option<u64>, summary: &mut Summary) {
    println!("{}", row(outcome, cpu, own, peak));
    if outcome.failed + outcome.timed_out > 0 {
        println!(
            "  ({} failed, {} timed out; first errors: {:?})",
            outcome.failed, outcome.timed_out, outcome.errors
        );
    }
    let share = outcome.ok as f64 / outcome.offered.max(1) as f64;
    summary.steps.push((outcome.rate, outcome.throughput(), outcome.ms(0.5), share));
}

async fn run_pushotp(args: &Args) -> anyhow::Result<Summary> {
    // The server: started here over a new SQLite database, or attached.
    let (spawned, url, database, key_file, pid) = match &args.url {
        Some(url) => (
            None,
            url.trim_end_matches('/').to_owned(),
            args.database.clone().context("--url needs --database")?,
            args.key_file.clone().context("--url needs --key-file")?,
            args.server_pid,
        ),
        None => {
            let bin = match &args.server_bin {
                Some(bin) => bin.clone(),
                None => std::env::current_exe()?
                    .parent()
                    .context("no directory")?
                    .join("pushotp-server"),
            };
            let (spawned, url) = pushotp::spawn_server(&bin, &args.server_log, &[]).await?;
            let pid = spawned.child.id();
            let (database, key_file) = (spawned.database.clone(), spawned.key_file.clone());
            (Some(spawned), url, database, key_file, pid)
        }
    };
    let server = pid.map(|p| Process(Some(p)));
    let addr: SocketAddr = url.trim_start_matches("http://").parse().context("URL as IP:PORT")?;
    let target = pushotp::Target {
        url: url.clone(),
        addr,
        sources: (1..=args.sources).map(|i| Ipv4Addr::new(127, 0, 0, i)).collect(),
    };
    println!("## PushOTP reference server at {url}\n");

    let started = Instant::now();
    let links = pushotp::provision(&database, &key_file, &url, args.devices).await?;
    println!(
        "- set-up: {} people with an activation link each in {:.1} s",
        links.len(),
        started.elapsed().as_secs_f64()
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()?;
    let started = Instant::now();
    let enrolled: Vec<anyhow::Result<pushotp::Enrollment>> = stream::iter(links.iter())
        .map(|(_, link)| pushotp::enroll(&http, link))
        .buffered(32)
        .collect()
        .await;
    let enrolled: Vec<pushotp::Enrollment> = enrolled.into_iter().collect::<anyhow::Result<_>>()?;
    println!(
        "- enrollment over POST /api/v1/enroll: {} devices in {:.1} s",
        enrolled.len(),
        started.elapsed().as_secs_f64()
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.map(|s| s.rss()).transpose()?;
    let started = Instant::now();
    let sockets: Vec<anyhow::Result<_>> = stream::iter(enrolled.iter().enumerate())
        .map(|(i, device)| {
            let source = target.sources[i % target.sources.len()];
            let target = &target;
            async move { pushotp::connect(target, source, device).await }
        })
        .buffered(64)
        .collect()
        .await;
    let sockets: Vec<_> = sockets.into_iter().collect::<anyhow::Result<_>>()?;
    let connect_time = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = server.map(|s| s.rss()).transpose()?;
    println!(
        "- {} WebSockets connected and logged in in {:.1} s",
        sockets.len(),
        connect_time.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let per = after.saturating_sub(before) as f64 / sockets.len() as f64;
        println!(
            "- server resident memory: {} before the sockets, {} with {} held ({:.1} KiB per connection)",
            mib(before),
            mib(after),
            sockets.len(),
            per / 1024.0
        );
    }

    // The devices run until their number channels close.
    let stats = Arc::new(pushotp::DeviceStats::default());
    let answers = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let mut numbers = Vec::with_capacity(sockets.len());
    for (ws, device) in sockets.into_iter().zip(enrolled) {
        let (tx, rx) = mpsc::unbounded_channel();
        numbers.push(tx);
        tokio::spawn(pushotp::run_device(
            ws,
            device,
            rx,
            answers.clone(),
            url.clone(),
            stats.clone(),
        ));
    }
    let numbers = Arc::new(numbers);
    let names: Vec<String> = links.into_iter().map(|(name, _)| name).collect();

    let mut summary = Summary::default();
    let mut next_person = 0usize;
    let mut notes = Vec::new();
    let url: Arc<str> = Arc::from(url.as_str());
    for run in 1..=args.runs {
        println!("\nRun {run} of {}:\n\n{HEADER}", args.runs);
        for &rate in &args.rates {
            let count = logins(rate, args.duration);
            // Password steps first, untimed; people in turn, so that nobody gets more than the
            // server's limit of pushes in flight.
            let persons: Vec<usize> = (0..count).map(|i| (next_person + i) % names.len()).collect();
            next_person = (next_person + count) % names.len();
            let password_started = Instant::now();
            let prepared: Vec<anyhow::Result<pushotp::Prepared>> = stream::iter(persons)
                .map(|p| pushotp::password_step(&http, &url, &names[p], p))
                .buffered(args.password_concurrency)
                .collect()
                .await;
            let prepared: Arc<Vec<pushotp::Prepared>> =
                Arc::new(prepared.into_iter().collect::<anyhow::Result<_>>()?);
            let password_time = password_started.elapsed();
            let rss_idle = server.map(|s| s.rss()).transpose()?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // On standard error, so that a profiler can be attached to the server for the
            // timed part only.
            eprintln!("timed step: {rate}/s for {} s", args.duration);
            let cpu = server.map(CpuWindow::start);
            let own = CpuWindow::start(Process(None));
            let peak = server.map(PeakRss::start);
            let outcome = openloop::run(rate, count, Duration::from_secs(args.limit), |i| {
                let prepared = prepared[i].clone();
                let device = numbers[prepared.person()].clone();
                pushotp::login(http.clone(), url.clone(), prepared, device)
            })
            .await?;
            let cpu = cpu.map(|c| c.cores());
            let own = own.cores();
            let peak = match peak {
                Some(p) => Some(p.finish().await),
                None => None,
            };
            report(&outcome, cpu, own, peak, &mut summary);
            notes.push(format!(
                "{rate:.0}/s: {count} password steps in {:.1} s; server RSS before the step {}",
                password_time.as_secs_f64(),
                rss_idle.map_or("-".into(), mib)
            ));
        }
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
    let refused = stats.refused.load(std::sync::atomic::Ordering::Relaxed);
    if refused > 0 {
        println!("\n- devices saw {refused} requests or answers refused");
    }
    if let Some(mut spawned) = spawned {
        let _ = spawned.child.kill().await;
    }
    Ok(summary)
}

async fn run_privacyidea(args: &Args) -> anyhow::Result<Summary> {
    let started = privacyidea::start(&args.pi_script).await?;
    let result = privacyidea_steps(args, &started).await;
    started.stop().await;
    result
}

async fn privacyidea_steps(args: &Args, started: &privacyidea::Started) -> anyhow::Result<Summary> {
    let url = started.url.clone();
    println!("\n## privacyIDEA 3.14 (poll-only) at {url}\n");
    let server = Process(Some(started.pid));
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let jwt = privacyidea::admin_token(&http, &url).await?;
    let keys = privacyidea::device_keys(args.pi_devices).await?;
    let t = Instant::now();
    let mut devices = Vec::new();
    for key in keys {
        devices.push(privacyidea::enroll(&http, &url, &jwt, key).await?);
    }
    println!("- enrollment: {} tokens in {:.1} s", devices.len(), t.elapsed().as_secs_f64());
    println!("- server resident memory: {}", mib(server.rss()?));
    let pool = privacyidea::Pool::new(devices);
    let url: Arc<str> = Arc::from(url.as_str());
    let mut summary = Summary::default();
    for run in 1..=args.runs {
        println!("\nRun {run} of {}:\n\n{HEADER}", args.runs);
        for &rate in &args.pi_rates {
            let count = logins(rate, args.pi_duration);
            let cpu = CpuWindow::start(server);
            let own = CpuWindow::start(Process(None));
            let peak = PeakRss::start(server);
            let outcome = openloop::run(rate, count, Duration::from_secs(args.limit * 6), |_| {
                privacyidea::login(http.clone(), url.clone(), pool.clone())
            })
            .await?;
            let (cpu, own) = (cpu.cores(), own.cores());
            let peak = peak.finish().await;
            report(&outcome, Some(cpu), own, Some(peak), &mut summary);
        }
    }
    Ok(summary)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check(&args)?;
    let files = raise_open_files(1 << 20);
    println!(
        "# pushotp-loadgen: {} devices, {} cores, open-file limit {files}\n",
        args.devices,
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let pushotp = if args.no_pushotp { None } else { Some(run_pushotp(&args).await?) };
    let privacyidea = if args.no_privacyidea { None } else { Some(run_privacyidea(&args).await?) };
    if let (Some(ours), Some(theirs)) = (&pushotp, &privacyidea) {
        println!("\n## Side by side\n");
        println!(
            "- most approved logins per second: PushOTP {:.0}, privacyIDEA {:.1}: {:.0}× as many",
            ours.best(),
            theirs.best(),
            ours.best() / theirs.best().max(f64::MIN_POSITIVE)
        );
        println!(
            "- p50 latency at the lowest offered rate: PushOTP {:.1} ms, privacyIDEA {:.1} ms: {:.0}× faster",
            ours.low_rate_p50(),
            theirs.low_rate_p50(),
            theirs.low_rate_p50() / ours.low_rate_p50().max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}
