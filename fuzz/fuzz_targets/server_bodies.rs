//! The reference server's JSON API as a device or anyone else on the network reaches it: a
//! request body posted to each device route of the whole service (`pushotp_server::app`, over
//! an in-memory SQLite database with one person and one enrolled token). Whatever the body,
//! the server answers with a status it means: never a 5xx, never a panic.
//!
//! Input: the first byte picks the route, the rest is the body. The token id of the protocol's
//! test vectors (`tok_7Q2mX9`) is replaced by the enrolled token's, so that seeds from the
//! vectors get past the token lookup to the tag checks.

#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use pushotp::push::{ActivationLink, EnrollRequest, Enrolled};
use pushotp_server::{AppState, Config, Db, Geo, ServerKey, app, enrollment, users};
use tower::ServiceExt;

/// The device routes that take a JSON body.
const ROUTES: [&str; 6] = [
    "/api/v1/enroll",
    "/api/v1/devices/pending",
    "/api/v1/devices/remove",
    "/api/v1/devices/restore",
    "/api/v1/devices/webpush",
    "/api/v1/answers",
];

/// The token id of `crate/tests/vectors/push_protocol.json`.
const VECTOR_TOKEN: &str = "tok_7Q2mX9";

struct Service {
    runtime: tokio::runtime::Runtime,
    app: Router,
    token_id: String,
}

async fn post(app: &Router, route: &str, body: Vec<u8>) -> axum::http::Response<Body> {
    let mut request = Request::post(route)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a request");
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    app.clone().oneshot(request).await.expect("the service answers")
}

/// The server, with alice's token enrolled through the API as a device enrolls it.
fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (app, token_id) = runtime.block_on(async {
            let db = Db::connect("sqlite::memory:").await.expect("a database");
            let state = AppState::new(db, ServerKey::random(), Geo::none(), Config::default())
                .await
                .expect("a server");
            let alice = users::add(&state.db, "alice", "alice-pw").await.expect("a person");
            let link = enrollment::new_enrollment(&state, alice.id, "Demo Portal")
                .await
                .expect("an activation link");
            let link: ActivationLink = link.parse().expect("a valid link");
            let request = EnrollRequest::new(&link, "fuzz", [7; 16]).expect("a request");
            let app = app(state);
            let reply = post(&app, ROUTES[0], serde_json::to_vec(&request).expect("JSON")).await;
            let body = axum::body::to_bytes(reply.into_body(), 1 << 16).await.expect("a body");
            let enrolled: Enrolled = serde_json::from_slice(&body).expect("enrolled");
            enrolled.verify(link.secret(), &request).expect("an authentic answer");
            (app, enrolled.token_id)
        });
        Service { runtime, app, token_id }
    })
}

/// `data` with every occurrence of `from` replaced by `to`.
fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let service = service();
    let route = ROUTES[usize::from(pick) % ROUTES.len()];
    let body = replace(body, VECTOR_TOKEN.as_bytes(), service.token_id.as_bytes());
    let reply = service.runtime.block_on(post(&service.app, route, body));
    assert!(!reply.status().is_server_error(), "{route}: {}", reply.status());
});
