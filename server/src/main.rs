//! `pushotp-server`: the command line of PushOTP's reference authentication server.
//!
//! Run with `cargo run -p pushotp-server -- serve --demo` (a demo organization with a demo user
//! in `pushotp.db` of the data folder, `~/.local/share/pushotp/`), or see `--help`.

#![allow(clippy::print_stdout, reason = "a command-line program prints its results")]

use std::future::IntoFuture;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pushotp_server::config::NumberMatching;
use pushotp_server::{AppState, Config, Db, Geo, ServerKey, app, ended, geo, store, tokens, users};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(version, about = "PushOTP reference authentication server")]
struct Cli {
    /// Database: sqlite://FILE (embedded), sqlite::memory: (for trials; nothing is kept), or
    /// postgres://… (for several server nodes). Default: pushotp.db in $XDG_DATA_HOME/pushotp,
    /// else ~/.local/share/pushotp.
    #[arg(long, env = "PUSHOTP_DATABASE", global = true)]
    database: Option<String>,
    /// File holding the 32-byte key that seals secrets at rest; created on first start. Defaults
    /// to the SQLite file's name with `.key`.
    #[arg(long, env = "PUSHOTP_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the device channel and the demo app.
    Serve(ServeArgs),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage push tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Fraud reports ("Deny → Yes, report").
    #[command(subcommand)]
    Report(ReportCommand),
}

/// `--number-matching` as the command line spells it.
#[derive(Clone, Copy, clap::ValueEnum)]
enum NumberMatchingArg {
    /// Pick the number from three.
    Choose,
    /// Type the two digits.
    Type,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on. Put a TLS reverse proxy in front for anything but a trial.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// The URL browsers and devices use to reach this server (default: http://BIND).
    #[arg(long)]
    public_url: Option<String>,
    /// A GeoIP2/GeoLite2 City database (MaxMind DB format) to place logins.
    #[arg(long)]
    geoip: Option<PathBuf>,
    /// The reverse proxy whose X-Forwarded-For header names the client.
    #[arg(long)]
    trusted_proxy: Option<IpAddr>,
    /// The organization's name, shown on tokens.
    #[arg(long, default_value = "Demo Org")]
    org: String,
    /// The protected app's name, shown in push requests.
    #[arg(long, default_value = "Demo Portal")]
    app: String,
    /// The origin of a login page whose sign-ins this server pushes, when it is not the public
    /// URL's (repeatable or comma-separated, at most 16), such as https://portal.example.com:
    /// devices fill an approval's passcode only there and at the server's own origin. The demo
    /// app's sign-ins name the first.
    #[arg(long, value_delimiter = ',')]
    login_origin: Vec<String>,
    /// Seconds a push request can be answered.
    #[arg(long, default_value_t = 120)]
    request_ttl: u64,
    /// Failed answers (wrong PIN, wrong number) counted before a token locks. A right answer
    /// forgives none; they are forgiven one per --failure-decay.
    #[arg(long, default_value_t = 5)]
    max_tries: i64,
    /// Seconds after which one counted failed answer of a token is forgiven (3600, an
    /// hour, to 31536000, a year).
    #[arg(long, default_value_t = pushotp_server::config::FAILURE_DECAY)]
    failure_decay: u64,
    /// Most pushes per person within one request TTL that did not end in an approved sign-in
    /// (waiting, replaced, expired, denied, reported or answered wrongly).
    #[arg(long, default_value_t = 3)]
    max_pending: i64,
    /// Seconds after a denial before a new sign-in of the same person may push.
    #[arg(long, default_value_t = 60)]
    deny_cooldown: u64,
    /// Send push requests without number matching.
    #[arg(long)]
    no_number_matching: bool,
    /// How the person gives the sign-in page's number on the device: `choose` it from three,
    /// or `type` it (a blind guess then approves one push in 90 rather than one in 3). Not
    /// with --no-number-matching.
    #[arg(long, value_enum, default_value_t = NumberMatchingArg::Choose, conflicts_with = "no_number_matching")]
    number_matching: NumberMatchingArg,
    /// Make new tokens PIN-protected.
    #[arg(long)]
    require_pin: bool,
    /// Lock a token when its owner reports a request.
    #[arg(long)]
    lock_on_report: bool,
    /// Take only approvals made in the browser that shows the login page, on its origin:
    /// refuse the others ("approve from the browser you are signing in with"). Without it they
    /// are taken and audited as unbound.
    #[arg(long)]
    require_same_browser: bool,
    /// How push services can reach you (Web Push VAPID contact): mailto:… or https://….
    #[arg(long)]
    contact: Option<String>,
    /// Password checks that may wait for a free Argon2 slot (4 run at once); beyond them a
    /// sign-in is refused at once with 503 and Retry-After.
    #[arg(long, default_value_t = 32)]
    password_queue: usize,
    /// Send Web Push messages only to these push-service hosts (comma-separated; `*.example.com`
    /// for every name under it), e.g. fcm.googleapis.com,updates.push.services.mozilla.com.
    /// Without it, any https endpoint at a public address.
    #[arg(long, value_delimiter = ',')]
    webpush_allow_host: Vec<String>,
    /// Also send Web Push messages to endpoints at loopback addresses, over plain http too: for
    /// test setups whose push service runs on this machine. Never for real people.
    #[arg(long)]
    webpush_allow_loopback: bool,
    /// Create the demo user `alice` (password `alice-demo`) and a token ready to enroll, if
    /// there is no alice yet; without --geoip, place sign-ins from this machine at 81.2.69.142
    /// (London) with the built-in GeoIP test database. Never on unless given.
    #[arg(long)]
    demo: bool,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a person; the password is read from standard input.
    Add {
        /// Login name.
        username: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Make a push token for a person and print its activation link and QR code.
    Enroll {
        /// Whose token.
        username: String,
        /// The token's name, shown on the device.
        #[arg(long, default_value = "Demo Portal")]
        name: String,
        /// The server URL the device will use.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Make the token PIN-protected: the device asks for a PIN at enrollment and for every
        /// approval, and the token locks after --max-tries wrong ones.
        #[arg(long, visible_alias = "pin")]
        require_pin: bool,
        /// Failed answers counted before the token locks (a right one forgives none).
        #[arg(long, default_value_t = 5)]
        max_tries: i64,
        /// How long the link works: a number with `s`, `m`, `h` or `d` (at least 60 s). Until a
        /// device redeems it, whoever holds the link can take the token: keep it short when
        /// the hand-over is quick.
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        expires: u64,
    },
    /// List tokens, with the failed tries that count now (under the failure decay the server
    /// was last started with).
    List,
    /// Lock an active token: no pushes, passcodes or answers of it until it is unlocked.
    Lock {
        /// The token's id.
        token_id: String,
    },
    /// Unlock a locked token (after failed answers, a report, or `token lock`).
    Unlock {
        /// The token's id.
        token_id: String,
    },
    /// Revoke a token for good (a lost device, a stolen export): no copy of it is accepted
    /// again, and the person enrolls anew.
    Revoke {
        /// The token's id.
        token_id: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// List fraud reports, newest first.
    List,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Logs go to stderr, so that what a command prints (a link, a list) is its own output.
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let url = match cli.database.clone() {
        Some(url) => url,
        None => format!("sqlite://{}", data_dir()?.join("pushotp.db").display()),
    };
    // The key first: a key file that is refused leaves the database untouched.
    let key = match (&cli.key_file, url.strip_prefix("sqlite://")) {
        (Some(path), _) => ServerKey::load_or_create(path)?,
        (None, Some(file)) if !file.contains(":memory:") => {
            let file = file.split('?').next().unwrap_or(file);
            ServerKey::load_or_create(&PathBuf::from(format!("{file}.key")))?
        }
        (None, _) if url.contains(":memory:") => ServerKey::random(),
        (None, _) => anyhow::bail!("--key-file is required with {url}"),
    };
    let db = Db::connect(&url).await?;
    match cli.command {
        Command::Serve(args) => {
            let hint = database_hint(cli.database.as_deref());
            serve(db, key, args, &hint).await
        }
        Command::User(UserCommand::Add { username }) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let user = users::add(&db, &username, password.trim_end_matches(['\r', '\n'])).await?;
            println!("added {} (id {})", user.username, user.id);
            Ok(())
        }
        Command::Token(TokenCommand::Enroll {
            username,
            name,
            public_url,
            require_pin,
            max_tries,
            expires,
        }) => {
            let config = Config {
                public_url,
                require_pin,
                max_tries,
                activation_ttl: expires,
                ..Config::default()
            };
            let state = AppState::new(db, key, Geo::none(), config).await?;
            let user = users::find(&state.db, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            print_enrollment(&state, user.id, &name).await
        }
        Command::Token(TokenCommand::List) => {
            // The failures that count now, under the decay the server runs with, not as stored.
            let decay = i64::try_from(tokens::failure_decay_in_force(&db).await?)?;
            let now = i64::try_from(pushotp_server::now())?;
            for t in store::tokens::list(&db, None).await? {
                println!(
                    "{}  {:<12} {:<8} {:<20} device={} pin={} failed={}/{}",
                    t.id,
                    t.username,
                    t.state,
                    t.name,
                    t.device_name.as_deref().unwrap_or("-"),
                    if t.pin_required { "yes" } else { "no" },
                    t.failed_tries_at(now, decay),
                    t.max_tries
                );
            }
            Ok(())
        }
        Command::Token(TokenCommand::Lock { token_id }) => {
            let state = AppState::new(db, key, Geo::none(), Config::default()).await?;
            tokens::lock_by_admin(&state, &token_id).await?;
            println!("locked {token_id}");
            Ok(())
        }
        Command::Token(TokenCommand::Unlock { token_id }) => {
            let state = AppState::new(db, key, Geo::none(), Config::default()).await?;
            tokens::unlock(&state, &token_id).await?;
            println!("unlocked {token_id}");
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { token_id }) => {
            let state = AppState::new(db, key, Geo::none(), Config::default()).await?;
            ended::revoke(&state, &token_id).await?;
            println!("revoked {token_id}");
            Ok(())
        }
        Command::Report(ReportCommand::List) => {
            for r in store::reports::list(&db).await? {
                println!(
                    "{}  user={} token={} app={:?} origin={} ip={} place={}",
                    r.created_at,
                    r.username,
                    r.token_id,
                    r.app,
                    r.origin,
                    r.client_ip,
                    r.place.as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
    }
}

/// Where the database and its key live when no --database is given: the person's data folder
/// (XDG Base Directory Specification, `$XDG_DATA_HOME`, else `~/.local/share`), never the folder
/// the server was started from, where a checkout would pick them up. Created for its owner only.
fn data_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .filter(|dir| !dir.is_empty())
            .map(|home| PathBuf::from(home).join(".local").join("share"))
            .context("no --database, and no HOME to keep the data in")?,
    };
    let dir = base.join("pushotp");
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn print_enrollment(state: &AppState, user_id: i64, name: &str) -> anyhow::Result<()> {
    let link = pushotp_server::enrollment::new_enrollment(state, user_id, name).await?;
    let qr = qrcode::QrCode::new(link.as_bytes())?;
    println!("{}", qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
    let ttl = state.config.activation_ttl;
    let valid = if ttl.is_multiple_of(3600) {
        format!("{} h", ttl / 3600)
    } else {
        format!("{} min", ttl / 60)
    };
    println!("Activation link (valid {valid}, once):\n{link}");
    Ok(())
}

/// A duration as `--expires` takes it: whole seconds, minutes, hours or days (`90s`, `15m`,
/// `2h`, `1d`), in seconds.
fn parse_duration(text: &str) -> Result<u64, String> {
    let unit = |suffix: char| match suffix {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86_400),
        _ => None,
    };
    let bad = || format!("{text:?} is not a duration such as 90s, 15m, 2h or 1d");
    let suffix = text.chars().last().ok_or_else(bad)?;
    let scale: u64 = unit(suffix).ok_or_else(bad)?;
    let number = text.get(..text.len() - 1).ok_or_else(bad)?;
    let count: u64 = number.parse().map_err(|_| bad())?;
    count.checked_mul(scale).ok_or_else(bad)
}

/// The `--database …` to repeat in a command printed for the administrator: the SQLite URL as
/// given, nothing for the default, and a placeholder for any other URL, which may hold a
/// password.
fn database_hint(database: Option<&str>) -> String {
    match database {
        None => String::new(),
        Some(url) if url.starts_with("sqlite:") => format!("--database {url} "),
        Some(_) => "--database URL ".to_owned(),
    }
}

/// `database` is [`database_hint`]'s, for the commands printed when nobody can sign in yet.
async fn serve(db: Db, key: ServerKey, args: ServeArgs, database: &str) -> anyhow::Result<()> {
    let demo = args.demo;
    // The demo shows places without a GeoIP download: the built-in test database, with sign-ins
    // from this machine standing for an address it knows. An operator's database is never mixed
    // with that stand-in.
    let (geo, demo_client_ip) = match &args.geoip {
        Some(path) => (Geo::open(path)?, None),
        None if demo => (Geo::demo()?, Some(geo::DEMO_CLIENT_IP)),
        None => (Geo::none(), None),
    };
    let config = Config {
        public_url: args.public_url.clone().unwrap_or_else(|| format!("http://{}", args.bind)),
        org_name: args.org,
        app_name: args.app,
        login_origins: args.login_origin,
        trusted_proxy: args.trusted_proxy,
        request_ttl: args.request_ttl,
        max_tries: args.max_tries,
        failure_decay: args.failure_decay,
        max_pending_per_user: args.max_pending,
        deny_cooldown: args.deny_cooldown,
        number_matching: !args.no_number_matching,
        number_entry: match args.number_matching {
            NumberMatchingArg::Choose => NumberMatching::Choose,
            NumberMatchingArg::Type => NumberMatching::Type,
        },
        require_pin: args.require_pin,
        lock_on_report: args.lock_on_report,
        require_same_browser: args.require_same_browser,
        contact: args.contact,
        demo_client_ip,
        password_queue: args.password_queue,
        webpush_allow_hosts: args.webpush_allow_host,
        webpush_allow_loopback: args.webpush_allow_loopback,
        ..Config::default()
    };
    let state = AppState::new(db, key, geo, config).await?;
    tokens::record_failure_decay(&state).await?;
    if demo && users::find(&state.db, "alice").await?.is_none() {
        let user = users::add(&state.db, "alice", "alice-demo").await?;
        println!(
            "Demo user: alice / alice-demo. Add this token to PushOTP (options page → Add a push token):"
        );
        print_enrollment(&state, user.id, "Demo Portal").await?;
    } else if !users::any(&state.db).await? {
        // A server that is not a demo starts empty: the administrator adds people and their
        // tokens with the command line, which a database in memory cannot be reached by.
        let public_url = &state.config.public_url;
        if database.contains(":memory:") {
            println!(
                "No one can sign in: this database is kept in memory, where the command line \
                 cannot add anyone. Start with --demo for a demo user, or give a database file."
            );
        } else {
            println!(
                "No one can sign in yet. Add a person (the password is read from standard input) and a push token:\n  \
                 pushotp-server {database}user add NAME\n  \
                 pushotp-server {database}token enroll NAME --public-url {public_url}\n\
                 or start with --demo for a demo user."
            );
        }
    }
    pushotp_server::push::spawn_sweeper(state.clone(), std::time::Duration::from_secs(30));
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let open_files = pushotp_server::raise_open_file_limit();
    tracing::info!(
        address = %args.bind,
        public_url = %state.config.public_url,
        open_files,
        "serving"
    );
    if let Some(ip) = state.config.demo_client_ip {
        let place = state.geo.place(ip).map(|p| format!("{}, {}", p.city, p.country));
        println!(
            "Demo places: sign-ins from this machine show as from {ip} ({}, built-in GeoIP test database).",
            place.as_deref().unwrap_or("no place")
        );
    }
    println!("Demo app: {}/app", state.config.public_url);
    let hub = state.hub.clone();
    let stopping = hub.clone();
    let serving = axum::serve(
        pushotp_server::listener(listener),
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("stopping");
        // Login pages' event streams and device sockets end now; requests in flight finish.
        stopping.close();
    });
    tokio::select! {
        served = serving.into_future() => served?,
        () = async { hub.closed().await; tokio::time::sleep(STOP_GRACE).await } => {
            tracing::warn!(grace_secs = STOP_GRACE.as_secs(), "requests still running; stopping anyway");
        }
    }
    // The sockets were told to close with the streams: a moment for their closing frames.
    hub.sockets_gone(Duration::from_secs(1)).await;
    tracing::info!("stopped");
    Ok(())
}

/// How long requests in flight may take to finish once the server is told to stop.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Ctrl-C or SIGTERM: stop accepting, end event streams and device sockets, let requests in
/// flight finish (at most [`STOP_GRACE`]).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
