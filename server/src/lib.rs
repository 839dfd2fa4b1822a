//! PushOTP's reference authentication server.
//!
//! It enrolls push tokens on devices (`docs/protocol.md` §3), sends push login requests to them
//! over a WebSocket, a poll endpoint and Web Push (§4, §7), checks their answers (§5), and hosts
//! a demo protected app whose organization login page offers "Use my mobile to autosend a
//! password". [`app`] builds the whole HTTP service from an [`AppState`], so tests can drive it
//! without a socket; `main.rs` only parses the command line and serves.

pub mod app_state;
pub mod audit;
pub mod clock;
pub mod config;
pub mod db;
pub mod delivery;
pub mod device;
pub mod device_auth;
pub mod egress;
pub mod ended;
pub mod enrollment;
pub mod error;
pub mod extract;
pub mod geo;
pub mod headers;
pub mod hub;
pub mod ids;
pub mod login;
pub mod notices;
pub mod push;
pub mod same_origin;
pub mod seal;
pub mod signin;
pub mod states;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod webpush;

use axum::Router;

pub use app_state::AppState;
pub use clock::now;
pub use config::Config;
pub use db::Db;
pub use geo::Geo;
pub use hub::Hub;
pub use ids::random_id;
pub use seal::ServerKey;

/// The whole HTTP service.
pub fn app(state: AppState) -> Router {
    let routes = Router::new()
        // Every POST of the browser-facing routes is taken from the server's own pages only.
        .merge(login::routes().route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin::refuse_cross_site,
        )))
        .merge(device::routes())
        .layer(axum::extract::DefaultBodyLimit::max(device::MAX_BODY));
    headers::protect(routes).layer(tower_http::trace::TraceLayer::new_for_http()).with_state(state)
}

/// The listener to serve on: every accepted connection gets `TCP_NODELAY`.
///
/// Without it, a small write that follows another one (an event stream's first event after its
/// headers, a push request after a frame) waits for the peer's delayed acknowledgement, about
/// 40 ms on Linux, because of Nagle's algorithm; every message here is small and should leave at
/// once.
pub fn listener(
    listener: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "setting TCP_NODELAY");
        }
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// Raises this process's soft limit of open files to its hard limit and returns the new soft
/// limit. Each device's WebSocket is an open file, and the usual soft limit (1,024) would stop
/// a server at about a thousand devices.
pub fn raise_open_file_limit() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((_, hard)) => rlimit::increase_nofile_limit(hard).unwrap_or(0),
        Err(_) => 0,
    }
}
