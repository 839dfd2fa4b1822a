//! Same-browser approvals (docs/protocol.md §5): each load of the login page carries a fresh
//! binding, the pushes started from it commit to it, and an approval that carries it is
//! *bound*: audited so, and allowed to leave the number out. Anything else (no binding, an
//! earlier load's, another login's, a used one) is *unbound*: taken and audited so by default,
//! refused with `--require-same-browser`, counting no failed try.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use pushotp::push::{Answer, PageBinding, PushRequest};
use pushotp_server::Config;
use serde_json::{Value, json};
use support::{Browser, Device, Server, Ws, alice};

crate::on_both_backends!(
    a_bound_approval_signs_in_without_the_number_and_is_audited_bound,
    an_approval_without_the_binding_signs_in_and_is_audited_unbound,
    an_earlier_loads_another_logins_or_a_used_binding_binds_nothing,
    where_the_server_requires_it_only_bound_approvals_sign_in,
);

/// A sign-in of alice's past the password, its page loaded once: the browser and the binding
/// of that load.
async fn at_the_page(server: &Server) -> (Browser, PageBinding) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let binding = browser.page_binding().await;
    (browser, binding)
}

/// "Use my mobile to autosend a password" on that page: the number it shows and the request.
async fn pushed(browser: &Browser, device: &Device, ws: &mut Ws) -> (u8, PushRequest) {
    let (status, body): (u16, Value) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    let number = u8::try_from(body["number"].as_u64().unwrap()).unwrap();
    (number, device.next_push(ws).await)
}

/// An approval carrying `binding` whatever the request commits to, with both tags right: what
/// a device would send that read a binding where it should not have (the core's builder
/// refuses to make it).
fn with_binding(
    device: &mut Device,
    request: &PushRequest,
    number: Option<u8>,
    binding: PageBinding,
) -> Answer {
    let mut answer = device.approve(request, Some(request.choices.unwrap()[0]), None);
    answer.number = number;
    answer.binding = Some(binding);
    answer.device_tag = answer.canonical_device().mac(&device.keys.channel);
    answer.answer_tag = Some(answer.canonical_answer().mac(&device.keys.answer));
    answer
}

async fn audited(server: &Server) -> (i64, i64) {
    let bound =
        "SELECT COUNT(*) FROM audit WHERE event = 'push_approved' AND detail LIKE '% bound'";
    let unbound =
        "SELECT COUNT(*) FROM audit WHERE event = 'push_approved' AND detail LIKE '% unbound'";
    (server.count(bound).await, server.count(unbound).await)
}

async fn a_bound_approval_signs_in_without_the_number_and_is_audited_bound(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;
    let (browser, binding) = at_the_page(&server).await;
    let (_, request) = pushed(&browser, &device, &mut ws).await;
    // The request commits to this load's binding, under its tag (checked by next_push).
    assert!(request.binding_matches(&binding));
    let answer = device.approve_bound(&request, None, &binding);
    assert_eq!(serde_json::to_value(&answer).unwrap()["number"], Value::Null);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(browser.outcome().await["state"], "approved");
    assert!(browser.complete().await.contains("You are signed in"));
    assert_eq!(audited(&server).await, (1, 0));
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
}

async fn an_approval_without_the_binding_signs_in_and_is_audited_unbound(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;
    // A device on another computer, or one that found no page: it picks the number.
    let (browser, _) = at_the_page(&server).await;
    let (number, request) = pushed(&browser, &device, &mut ws).await;
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(audited(&server).await, (0, 1));

    // A push from a sign-in whose page was never loaded commits to a binding no page carries,
    // and leaving the number out of its approval is a wrong number.
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (_, request) = pushed(&browser, &device, &mut ws).await;
    assert!(request.binding_hash.is_some());
    let answer = with_binding(&mut device, &request, None, [7; 16]);
    let (status, reply) = device.send(&answer).await;
    assert_eq!(status, 200);
    assert_eq!(reply, json!({ "status": "rejected", "reason": "wrong_number", "triesLeft": 4 }));
}

async fn an_earlier_loads_another_logins_or_a_used_binding_binds_nothing(database: &str) {
    let (server, mut device, mut ws) = alice(database, Config::default()).await;

    // The page loaded again: the push commits to the newest load only, and an approval with
    // the earlier load's binding and no number is a wrong number (a failed try).
    let (browser, earlier) = at_the_page(&server).await;
    let newest = browser.page_binding().await;
    assert_ne!(earlier, newest);
    let (_, request) = pushed(&browser, &device, &mut ws).await;
    assert!(request.binding_matches(&newest) && !request.binding_matches(&earlier));
    let answer = with_binding(&mut device, &request, None, earlier);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["reason"].as_str()), (200, Some("wrong_number")), "{reply}");

    // Another sign-in's binding, with the right number: approved, as unbound.
    let (browser, _) = at_the_page(&server).await;
    let (_, other) = at_the_page(&server).await;
    let (number, request) = pushed(&browser, &device, &mut ws).await;
    let answer = with_binding(&mut device, &request, Some(number), other);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(audited(&server).await, (0, 1));

    // A binding that bound an approval before, sent again with a new sign-in's: unbound.
    let (browser, used) = at_the_page(&server).await;
    let (_, request) = pushed(&browser, &device, &mut ws).await;
    let answer = device.approve_bound(&request, None, &used);
    let (status, _) = device.send(&answer).await;
    assert_eq!(status, 200);
    assert_eq!(audited(&server).await, (1, 1));
    let (browser, _) = at_the_page(&server).await;
    let (number, request) = pushed(&browser, &device, &mut ws).await;
    let answer = with_binding(&mut device, &request, Some(number), used);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert_eq!(audited(&server).await, (1, 2));
}

async fn where_the_server_requires_it_only_bound_approvals_sign_in(database: &str) {
    let config = Config { require_same_browser: true, ..Config::default() };
    let (server, mut device, mut ws) = alice(database, config).await;
    let (browser, binding) = at_the_page(&server).await;
    let (number, request) = pushed(&browser, &device, &mut ws).await;
    // The right number and the right PIN, from another device: refused, no failed try, and
    // the login page is told why.
    let (status, reply) = device.approve_send(&request, Some(number), None).await;
    assert_eq!(status, 200);
    assert_eq!(reply, json!({ "status": "rejected", "reason": "unbound", "triesLeft": null }));
    let outcome = browser.outcome().await;
    assert_eq!((&outcome["state"], &outcome["reason"]), (&json!("rejected"), &json!("unbound")));
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM audit WHERE event = 'push_rejected' AND detail LIKE '% unbound'"
            )
            .await,
        1
    );
    assert_eq!(audited(&server).await, (0, 0));
    // The request is over: the same answer bound now finds nothing to approve.
    let answer = device.approve_bound(&request, None, &binding);
    let (status, _) = device.send(&answer).await;
    assert_eq!(status, 409);

    // A new push from the same page, approved in the browser that shows it: signed in.
    let (_, request) = pushed(&browser, &device, &mut ws).await;
    let answer = device.approve_bound(&request, None, &binding);
    let (status, reply) = device.send(&answer).await;
    assert_eq!((status, reply["status"].as_str()), (200, Some("approved")), "{reply}");
    assert!(browser.complete().await.contains("You are signed in"));
    assert_eq!(audited(&server).await, (1, 0));
}
