//! The protective headers every answer carries: pages, the two static assets, redirects, the
//! event stream and the devices' API alike.
//!
//! Pages carry a person's name, an activation secret (the enrollment page) or set a sign-in or
//! session cookie, so nothing but the static assets may be stored by a browser or a proxy; no
//! page may be framed (clickjacking the "Add a push authenticator" button or the login page);
//! pages load only the server's own script and style sheet; and no address (a page's path,
//! never a secret, but still) leaks to another site in a `Referer`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The content security policy (CSP Level 3): the pages' one script (`/assets/auth.js`, a
/// module) and one style sheet come from the server itself, there is no inline script, style or
/// event handler, the page's script talks only to its own origin (`fetch`, `EventSource`), forms
/// post only there, the favicon is an empty `data:` URL, and no other page may frame them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Marks an answer a browser may keep and revalidate (`Cache-Control: no-cache`): the static
/// style sheet and script, which hold nothing about anyone. Every other answer is `no-store`.
#[derive(Debug, Clone, Copy)]
pub struct Static;

/// Adds the headers to every answer of `router`, including its fallback (`404`) and the
/// answers its other layers make (a body too large).
pub fn protect<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let always = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, cache_control))
        .layer(always(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        // For browsers without CSP Level 2's frame-ancestors (RFC 7034).
        .layer(always(header::X_FRAME_OPTIONS, "DENY"))
        .layer(always(header::REFERRER_POLICY, "no-referrer"))
        .layer(always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

/// `no-store` (RFC 9111 §5.2.2.5) unless the answer is [`Static`]: then its own header stays.
fn cache_control(response: &Response<Body>) -> Option<HeaderValue> {
    let cacheable = response.extensions().get::<Static>().is_some();
    (!cacheable).then_some(HeaderValue::from_static("no-store"))
}
