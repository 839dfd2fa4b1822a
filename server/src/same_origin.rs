//! Cross-site request forgery: the browser-facing routes' POSTs are taken only from the
//! server's own pages.
//!
//! The session and sign-in cookies are `SameSite=Strict`, but "site" is the registrable domain:
//! a page on a sibling subdomain, or on another port of the same host, is same-site, and its
//! auto-submitted form carries the cookies. Such a page could confirm a token that someone who
//! saw the activation link redeemed (a second factor for them), reject the person's own token,
//! start pushes or sign the person out. So every POST of those routes is refused with `403
//! cross_site`, before its handler runs, when the browser says it comes from elsewhere:
//!
//! - `Sec-Fetch-Site` (Fetch Metadata Request Headers), when present, decides: only
//!   `same-origin` passes. A page cannot set or change it, and it is the only word on forms:
//!   with this server's `Referrer-Policy: no-referrer`, a form's POST carries `Origin: null`
//!   (Fetch, "append a request `Origin` header").
//! - Otherwise `Origin` (RFC 6454 §7), when present, must be the origin of the server's public
//!   URL.
//! - A request with neither (curl, scripts, browsers that send neither) passes: a browser
//!   that sends neither on a cross-site POST predates both, and the cookies' `SameSite=Strict`
//!   still keeps other sites out.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app_state::AppState;
use crate::error::AppError;

/// The middleware: refuses a POST from another origin (see the module) with
/// [`AppError::CrossSite`], and passes everything else on.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if request.method() == Method::POST
        && !from_own_origin(request.headers(), &origin_of(&state.config.public_url))
    {
        return AppError::CrossSite.into_response();
    }
    next.run(request).await
}

/// Whether a request with `headers` may come from a page of `own` (an origin as
/// [`origin_of`] writes it).
fn from_own_origin(headers: &HeaderMap, own: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().is_ok_and(|origin| origin.eq_ignore_ascii_case(own)),
        None => true,
    }
}

/// The origin of `url` as a browser serializes it in `Origin` (RFC 6454 §6.1): scheme, host
/// and the port only when it is not the scheme's default, lower case.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    let host = match default_port {
        Some(port) => host.strip_suffix(port).unwrap_or(host),
        None => host,
    };
    format!("{scheme}://{}", host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_other_than_the_default() {
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(origin_of("https://Auth.Example.COM/pushotp/"), "https://auth.example.com");
        assert_eq!(origin_of("https://auth.example.com:443"), "https://auth.example.com");
        assert_eq!(origin_of("http://auth.example.com:80/x?y"), "http://auth.example.com");
    }

    #[test]
    fn only_the_own_origin_passes() {
        let own = "http://127.0.0.1:8080";
        assert!(from_own_origin(&headers(&[]), own));
        assert!(from_own_origin(&headers(&[("origin", "http://127.0.0.1:8080")]), own));
        assert!(from_own_origin(&headers(&[("sec-fetch-site", "same-origin")]), own));
        // A form of the server's own page, under `Referrer-Policy: no-referrer`.
        let form = [("origin", "null"), ("sec-fetch-site", "same-origin")];
        assert!(from_own_origin(&headers(&form), own));
        for refused in [
            &[("origin", "http://127.0.0.1:8081")][..],
            &[("origin", "http://localhost:8080")],
            &[("origin", "null")],
            &[("sec-fetch-site", "same-site")],
            &[("sec-fetch-site", "cross-site")],
            &[("sec-fetch-site", "none")],
            &[("origin", "http://127.0.0.1:8080"), ("sec-fetch-site", "same-site")],
        ] {
            assert!(!from_own_origin(&headers(refused), own), "{refused:?}");
        }
    }
}
