//! `pushotp-server serve` as an administrator starts it: the demo only when asked for.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `pushotp-server <global> serve --bind 127.0.0.1:<free> <args>` with `HOME` in `home`, until
/// it is dropped.
struct Serving {
    child: Child,
    /// What it printed up to its "Demo app:" line.
    output: String,
}

impl Serving {
    fn start(home: &Path, global: &[&str], args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = server_command(home)
            .args(global)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut output = String::new();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        while !output.contains("Demo app:") {
            let line = lines.next().expect("the server printed its address").unwrap();
            output.push_str(&line);
            output.push('\n');
        }
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, output }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pushotp-server` with `HOME` in `home` and nothing of the caller's environment that names
/// a database or key file.
fn server_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pushotp-server"));
    command
        .current_dir(home)
        .env("HOME", home)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .env_remove("XDG_DATA_HOME")
        .env_remove("PUSHOTP_DATABASE")
        .env_remove("PUSHOTP_KEY_FILE");
    command
}

/// Runs a command of the administrator's command line with `input` on its stdin; what it
/// exited with and printed.
fn admin(home: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = server_command(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command of the administrator's command line that must succeed; its output.
fn run(home: &Path, args: &[&str], input: &str) -> String {
    let out = admin(home, args, input);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare `serve`, with or without `--database`, makes no demo user and prints no activation
/// link; with no one to sign in it says how to add a person and a token. `--demo` still does.
#[test]
fn serve_makes_the_demo_only_when_asked_and_says_how_to_add_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();

    // No --database: the data folder's database, and no demo.
    let bare = Serving::start(home, &[], &[]);
    assert!(!bare.output.contains("pushotp://enroll"), "no activation link: {}", bare.output);
    assert!(!bare.output.contains("alice"), "no demo user: {}", bare.output);
    assert!(!bare.output.contains("Demo places"), "no made-up places: {}", bare.output);
    assert!(
        bare.output.contains("user add") && bare.output.contains("token enroll"),
        "how to add a person and a token: {}",
        bare.output
    );
    drop(bare);
    assert!(home.join(".local/share/pushotp/pushotp.db").is_file());
    assert_eq!(run(home, &["token", "list"], "").trim(), "", "no demo token");
    let added = run(home, &["user", "add", "alice"], "a password\n");
    assert!(added.starts_with("added alice"), "the name is free: {added}");
    // An administrator can revoke a token for good.
    let link = run(home, &["token", "enroll", "alice"], "");
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_owned();
    assert_eq!(run(home, &["token", "revoke", &token], "").trim(), format!("revoked {token}"));
    assert!(run(home, &["token", "list"], "").contains("revoked"));

    // A person now exists: nothing more to say.
    let again = Serving::start(home, &[], &[]);
    assert!(!again.output.contains("user add"), "{}", again.output);
    drop(again);

    // A database named on the command line: the hint names it too.
    let db = format!("sqlite://{}", home.join("org.db").display());
    let named = Serving::start(home, &["--database", &db], &[]);
    assert!(!named.output.contains("pushotp://enroll"), "{}", named.output);
    assert!(named.output.contains(&format!("--database {db} user add")), "{}", named.output);
    drop(named);

    // --demo: the demo user and her activation link, as before.
    let demo_db = format!("sqlite://{}", home.join("demo.db").display());
    let demo = Serving::start(home, &["--database", &demo_db], &["--demo"]);
    assert!(demo.output.contains("alice / alice-demo"), "{}", demo.output);
    assert!(demo.output.contains("pushotp://enroll?"), "{}", demo.output);
    assert!(!demo.output.contains("user add"), "{}", demo.output);
}

/// Runs the administrator's command line like [`run`]; whether it succeeded, and its stderr.
fn try_run(home: &Path, args: &[&str], input: &str) -> (bool, String) {
    let out = admin(home, args, input);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Files that already exist are left as they are: a database file that other users may read
/// is used, with a warning that says how to close it; a server key file that others may read
/// is refused, since it opens every sealed secret, and nothing is written.
#[test]
fn existing_files_others_may_read_are_named_and_a_readable_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let db_path = home.join("open.db");
    std::fs::write(&db_path, b"").unwrap();
    std::fs::set_permissions(&db_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let key_path = home.join("open.key");
    std::fs::write(&key_path, [7u8; 32]).unwrap();
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db = format!("sqlite://{}", db_path.display());
    let key = key_path.display().to_string();
    let args = ["--database", &db, "--key-file", &key, "user", "add", "alice"];

    let (ok, stderr) = try_run(home, &args, "a password\n");
    assert!(!ok, "a key file others may read is refused");
    assert!(stderr.contains("open.key") && stderr.contains("chmod 600"), "{stderr}");
    assert_eq!(std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o644);
    assert_eq!(std::fs::read(&key_path).unwrap(), [7u8; 32], "the key is left as it is");
    assert_eq!(std::fs::metadata(&db_path).unwrap().len(), 0, "the database is not opened");

    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (ok, stderr) = try_run(home, &args, "a password\n");
    assert!(ok, "{stderr}");
    assert!(stderr.contains("open to other users") && stderr.contains("chmod 600"), "{stderr}");
    let mode = std::fs::metadata(&db_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "an existing database file keeps its mode");
}

/// The demo's made-up place for sign-ins from this machine comes only with the built-in test
/// database: a demo given `--geoip` shows addresses as received (`geo::shown_ip` with no
/// stand-in), and says nothing of demo places.
#[test]
fn a_demo_given_geoip_uses_no_stand_in_address() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mmdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/geoip/GeoIP2-City-Test.mmdb");
    let made_up = Serving::start(home, &["--database", "sqlite::memory:"], &["--demo"]);
    assert!(
        made_up.output.contains("Demo places: sign-ins from this machine show as from 81.2.69.142"),
        "{}",
        made_up.output
    );
    drop(made_up);
    let geoip = mmdb.display().to_string();
    let real =
        Serving::start(home, &["--database", "sqlite::memory:"], &["--demo", "--geoip", &geoip]);
    assert!(!real.output.contains("Demo places"), "{}", real.output);
    assert!(real.output.contains("alice / alice-demo"), "still the demo: {}", real.output);
}

/// `serve` with `args` given up to ten seconds to exit: its stderr if it did (refused at
/// start-up), `None` if it was still serving (then stopped).
fn serve_refused(home: &Path, args: &[&str]) -> Option<String> {
    let mut child = server_command(home)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            assert!(!out.status.success(), "a server that stops by itself failed");
            return Some(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A failure decay shorter than an hour is refused at start-up: at one a minute a guesser who
/// never locks a token gets about 1,440 PIN guesses a day, and a four-digit PIN falls within a
/// week. An hour is taken.
#[test]
fn a_failure_decay_under_an_hour_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for short in ["60", "3599"] {
        let stderr = serve_refused(home, &["--failure-decay", short])
            .unwrap_or_else(|| panic!("--failure-decay {short} is refused"));
        assert!(stderr.contains("failure decay must be 3600 s"), "{stderr}");
    }
    drop(Serving::start(home, &[], &["--failure-decay", "3600"]));
}

/// `--no-number-matching` and `--number-matching` contradict each other: the command line
/// refuses both together rather than quietly sending requests without number matching.
#[test]
fn no_number_matching_and_a_number_matching_mode_are_refused_together() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let stderr = serve_refused(home, &["--no-number-matching", "--number-matching", "type"])
        .expect("the contradiction is refused");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert!(stderr.contains("--number-matching"), "{stderr}");
    drop(Serving::start(home, &[], &["--no-number-matching"]));
    drop(Serving::start(home, &[], &["--number-matching", "type"]));
}

/// Runs `sql` on the SQLite database at `url`.
fn execute(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = pushotp_server::Db::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&db.writer).await.unwrap();
        db.writer.close().await;
        db.pool.close().await;
    });
}

/// `token list` shows each token's failed tries as they count now, forgiven one per failure
/// decay of the server (a day unless it was started with another), not as last stored.
#[test]
fn token_list_shows_the_failures_that_count_now() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let url = format!("sqlite://{}", home.join("org.db").display());
    let db = ["--database", url.as_str()];
    run(home, &[&db[..], &["user", "add", "alice"]].concat(), "a password\n");
    run(home, &[&db[..], &["token", "enroll", "alice"]].concat(), "");
    // Three failures, the last two days and a minute ago.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let last = now.as_secs() - 2 * 86_400 - 60;
    execute(
        &url,
        &format!("UPDATE tokens SET state = 'active', failed_tries = 3, last_failed_at = {last}"),
    );
    let listed = run(home, &[&db[..], &["token", "list"]].concat(), "");
    assert!(listed.contains("failed=1/5"), "two of three forgiven in two days: {listed}");
    // A server started with a decay of two days: one of them forgiven.
    drop(Serving::start(home, &db, &["--failure-decay", "172800"]));
    let listed = run(home, &[&db[..], &["token", "list"]].concat(), "");
    assert!(listed.contains("failed=2/5"), "one forgiven in two days: {listed}");
}
