//! Web Push endpoints reach only public push services: a device cannot make the server POST to
//! loopback, private, link-local or other non-public addresses, neither by registering such an
//! endpoint nor by a name that resolves (or later re-resolves) to one.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pushotp_server::egress::{EndpointPolicy, EndpointRefused, Lookup};
use pushotp_server::webpush::{Subscription, Urgency, VapidKey, WebPush, WebPushError};
use pushotp_server::{Config, ServerKey};
use support::{Device, Server, browser_keys, push_service};

const NOT_PUBLIC: &[&str] = &[
    "http://push.example.com/x",
    "https://127.0.0.1/x",
    "https://127.8.9.10:8443/x",
    "https://localhost/x",
    "https://0.0.0.0/x",
    "https://10.0.0.1/x",
    "https://172.16.5.4/x",
    "https://192.168.1.1/x",
    "https://100.64.0.1/x",
    "https://169.254.169.254/latest/meta-data",
    "https://224.0.0.1/x",
    "https://255.255.255.255/x",
    "https://192.0.2.1/x",
    "https://198.51.100.1/x",
    "https://203.0.113.1/x",
    "https://[::1]/x",
    "https://[::]/x",
    "https://[::ffff:127.0.0.1]/x",
    "https://[::ffff:10.0.0.1]/x",
    "https://[fd00::1]/x",
    "https://[fe80::1]/x",
    "https://[ff02::1]/x",
    "https://[2001:db8::1]/x",
];

#[tokio::test]
async fn registration_refuses_endpoints_that_are_not_public_https() {
    let server = Server::start("sqlite::memory:", ServerKey::random(), Config::default()).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let (_, _, p256dh, auth) = browser_keys();
    for endpoint in NOT_PUBLIC {
        let (status, reply) = device.register_webpush(endpoint, &p256dh, &auth).await;
        assert_eq!(status, 400, "{endpoint}: {reply}");
        assert_eq!(reply["error"], "endpoint_not_allowed", "{endpoint}: {reply}");
    }
    assert_eq!(
        server.count("SELECT COUNT(*) FROM tokens WHERE webpush_endpoint IS NOT NULL").await,
        0
    );
    server.stop().await;
}

#[tokio::test]
async fn a_push_is_never_sent_to_a_loopback_push_service() {
    let mut service = push_service(201).await;
    let (_, _, p256dh, auth) = browser_keys();
    let sender = WebPush::new(VapidKey::generate(), "mailto:ops@example.org")
        .unwrap()
        .with_timeout(Duration::from_secs(5));
    let by_name = service.endpoint.replace("127.0.0.1", "localhost");
    for endpoint in [service.endpoint.as_str(), by_name.as_str()] {
        let subscription = Subscription::new(endpoint, p256dh.as_str(), auth.as_str()).unwrap();
        let sent = sender.send(&subscription, b"{}", 60, Urgency::High, None).await;
        assert!(sent.is_err(), "{endpoint} was reached: {sent:?}");
    }
    assert!(service.received.try_recv().is_err(), "the loopback push service got a request");
}

/// A resolver the test controls: each name answers the addresses listed for it in turn, the
/// last one from then on.
fn resolver(names: &[(&str, &[&str])]) -> Lookup {
    let names: HashMap<String, Vec<IpAddr>> = names
        .iter()
        .map(|(name, addrs)| {
            ((*name).to_owned(), addrs.iter().map(|a| a.parse().unwrap()).collect())
        })
        .collect();
    let asked = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    Arc::new(move |host: String| {
        let answer = names.get(&host).map(|addrs| {
            let mut asked = asked.lock().unwrap();
            let n = asked.entry(host.clone()).or_default();
            let ip = addrs[(*n).min(addrs.len() - 1)];
            *n += 1;
            vec![ip]
        });
        Box::pin(async move {
            answer.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, host))
        })
    })
}

fn sender(policy: EndpointPolicy, lookup: Lookup) -> WebPush {
    WebPush::new(VapidKey::generate(), "mailto:ops@example.org")
        .unwrap()
        .with_endpoints(policy, lookup)
        .unwrap()
        .with_timeout(Duration::from_millis(500))
}

#[tokio::test]
async fn a_name_that_rebinds_to_loopback_is_refused_at_connect_time() {
    let lookup = resolver(&[
        ("rebind.test", &["93.184.216.34", "127.0.0.1"]),
        ("internal.test", &["10.0.0.7"]),
        ("metadata.test", &["169.254.169.254"]),
    ]);
    let sender = sender(EndpointPolicy::default(), lookup);
    // At registration the name is public...
    assert_eq!(sender.check_endpoint("https://rebind.test/push/1").await, Ok(()));
    // ...and when the push is sent it points at loopback: no connection is made.
    let (_, _, p256dh, auth) = browser_keys();
    let subscription = Subscription::new("https://rebind.test/push/1", p256dh, auth).unwrap();
    let sent = sender.send(&subscription, b"{}", 60, Urgency::High, None).await;
    assert!(
        matches!(sent, Err(WebPushError::EndpointRefused(EndpointRefused::NotPublic(ref h))) if h == "rebind.test"),
        "{sent:?}"
    );
    for name in ["internal.test", "metadata.test"] {
        let endpoint = format!("https://{name}/push/1");
        let checked = sender.check_endpoint(&endpoint).await;
        assert_eq!(checked, Err(EndpointRefused::NotPublic(name.to_owned())));
    }
}

#[tokio::test]
async fn a_public_address_is_let_through() {
    let lookup = resolver(&[("push.test", &["8.8.8.8"])]);
    let sender = sender(EndpointPolicy::default(), lookup);
    assert_eq!(sender.check_endpoint("https://push.test/push/1").await, Ok(()));
    let (_, _, p256dh, auth) = browser_keys();
    let subscription = Subscription::new("https://push.test/push/1", p256dh, auth).unwrap();
    // This machine reaches no public host: the attempt times out or fails to connect, but it
    // is made.
    let sent = sender.send(&subscription, b"{}", 60, Urgency::High, None).await;
    assert!(matches!(sent, Err(WebPushError::Timeout(_) | WebPushError::Transport(_))), "{sent:?}");
}

#[tokio::test]
async fn loopback_is_reached_through_the_resolver_only_with_the_option() {
    let mut service = push_service(201).await;
    let port = service.endpoint.split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
    let endpoint = format!("http://push.test:{port}/push/device-1");
    let (_, _, p256dh, auth) = browser_keys();
    let subscription = Subscription::new(endpoint.as_str(), p256dh, auth).unwrap();
    let lookup = resolver(&[("push.test", &["127.0.0.1"])]);

    let strict = sender(EndpointPolicy::default(), lookup.clone());
    let sent = strict.send(&subscription, b"{}", 60, Urgency::High, None).await;
    assert!(matches!(sent, Err(WebPushError::EndpointRefused(_))), "{sent:?}");
    assert!(service.received.try_recv().is_err());

    let tests = sender(EndpointPolicy::new(Vec::new(), true), lookup);
    let sent = tests.send(&subscription, b"{}", 60, Urgency::High, None).await;
    assert_eq!(sent.unwrap().status, 201);
    assert!(service.received.try_recv().is_ok(), "delivered to the name's loopback address");
}

#[tokio::test]
async fn only_the_listed_push_services_are_reached() {
    let lookup = resolver(&[("push.test", &["8.8.8.8"]), ("a.push.example", &["8.8.4.4"])]);
    let policy = EndpointPolicy::new(vec!["push.test".into(), "*.push.example".into()], false);
    let sender = sender(policy, lookup);
    assert_eq!(sender.check_endpoint("https://push.test/x").await, Ok(()));
    assert_eq!(sender.check_endpoint("https://a.push.example/x").await, Ok(()));
    assert_eq!(
        sender.check_endpoint("https://8.8.8.8/x").await,
        Err(EndpointRefused::HostNotAllowed("8.8.8.8".into()))
    );
    // Through the API, with the server's option.
    let config =
        Config { webpush_allow_hosts: vec!["fcm.googleapis.com".into()], ..Config::default() };
    let server = Server::start("sqlite::memory:", ServerKey::random(), config).await;
    server.user("alice").await;
    let device = Device::enroll(&server.link("alice").await, "laptop").await;
    let (_, _, p256dh, auth) = browser_keys();
    let (status, reply) = device.register_webpush("https://8.8.8.8/x", &p256dh, &auth).await;
    assert_eq!((status, reply["error"].as_str()), (400, Some("endpoint_not_allowed")), "{reply}");
    server.stop().await;
}
