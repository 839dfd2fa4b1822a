//! Failed approvals are counted honestly: each wrong answer (wrong PIN, wrong number, bad
//! answer) adds one to the token's count, a success forgives nothing, one failure is forgiven
//! per decay period, and the token locks when the count reaches its `maxTries`. Each counted
//! failure is told to every device of the person (`failed_approvals`).
//!
//! Every check that a statement must get right is one function over a database URL, run by
//! `on_sqlite` and `on_postgresql` tests of the same name (see [`support::postgres_database`]).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use futures_util::future::join_all;
use pushotp::push::{NoticeKind, TokenNotice};
use pushotp_server::config::FAILURE_DECAY;
use pushotp_server::{Config, store, tokens};
use serde_json::Value;
use support::{Browser, Device, Server, Ws, alice, next_json, now};

/// How many wrong answers race in the concurrency check.
const RACERS: usize = 8;

crate::on_both_backends!(
    failures_spread_between_successes_still_lock_the_token,
    a_failure_is_forgiven_after_the_decay_period,
    concurrent_wrong_answers_count_each,
    each_failed_approval_is_told_to_every_device_of_the_person,
    changing_the_decay_only_changes_the_pace,
    a_clock_step_back_adds_nothing,
    concurrent_wrong_answers_lock_the_token_once,
    a_lock_is_recorded_once_even_after_a_failure_is_forgiven,
    a_wrong_answer_for_a_token_no_longer_active_counts_nothing,
    an_unlock_racing_wrong_answers_clears_state_and_count_at_once,
    an_approval_after_an_administrators_lock_approves_nothing,
    a_push_bomber_cannot_lock_the_token,
    the_count_now_and_the_decay_in_force_are_known_to_the_command_line,
);

/// PIN tokens with three tries, no number matching, and no pause between sign-ins.
fn pin_config(max_tries: i64) -> Config {
    Config {
        require_pin: true,
        max_tries,
        number_matching: false,
        deny_cooldown: 0,
        max_pending_per_user: 20,
        ..Config::default()
    }
}

/// A new sign-in of alice's, past the password, with its push request and the number its page
/// shows, if any.
async fn signed_in(server: &Server) -> (Browser, Value) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    let (status, body) = browser.push().await;
    assert_eq!(status, 200, "{body}");
    (browser, body)
}

/// Moves the token's stored failures `seconds` into the past: time passing, without the wait.
async fn pass(server: &Server, seconds: u64) {
    sqlx::query("UPDATE tokens SET last_failed_at = last_failed_at - $1")
        .bind(i64::try_from(seconds).unwrap())
        .execute(&server.state.db.writer)
        .await
        .unwrap();
}

/// Three wrong PINs with a limit of three lock the token, even with a right approval after
/// each of the first two: a success forgives nothing, so guesses cannot be spread between the
/// person's own sign-ins.
async fn failures_spread_between_successes_still_lock_the_token(database: &str) {
    let (server, mut device, mut ws) = alice(database, pin_config(3)).await;
    for left in [2, 1] {
        signed_in(&server).await;
        let request = device.next_push(&mut ws).await;
        let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
        assert_eq!(
            (reply["reason"].as_str(), reply["triesLeft"].as_i64()),
            (Some("wrong_pin"), Some(left)),
            "{reply}"
        );
        let (_, reply) = device.approve_send(&request, None, Some("4711")).await;
        assert_eq!(reply["status"], "approved", "{reply}");
        assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 3 - left);
    }
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(
        (reply["reason"].as_str(), reply["triesLeft"].as_i64()),
        (Some("locked"), Some(0)),
        "{reply}"
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    // Locked means locked: the right PIN approves nothing now.
    let (status, body) = push_of_a_new_sign_in(&server).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.to_string().contains("locked"), "{body}");
    server.stop().await;
}

/// The reply to the push of a new sign-in of alice's.
async fn push_of_a_new_sign_in(server: &Server) -> (u16, Value) {
    let browser = Browser::new(&server.url);
    browser.sign_in("alice").await;
    browser.push().await
}

/// One failure is forgiven per decay period (a day by default): a failure a day old no longer
/// counts, one a few seconds short of a day still does. An administrator's unlock forgets
/// them all.
async fn a_failure_is_forgiven_after_the_decay_period(database: &str) {
    assert_eq!(FAILURE_DECAY, 24 * 3600);
    let (server, mut device, mut ws) = alice(database, pin_config(2)).await;
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let wrong_pin =
        |reply: &Value| (reply["reason"].as_str().map(str::to_owned), reply["triesLeft"].as_i64());
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(wrong_pin(&reply), (Some("wrong_pin".into()), Some(1)), "{reply}");
    // A day later the first failure is forgiven: the second leaves one try, as the first did.
    pass(&server, FAILURE_DECAY).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(wrong_pin(&reply), (Some("wrong_pin".into()), Some(1)), "{reply}");
    // Ten seconds short of a day, it still counts: the third locks.
    pass(&server, FAILURE_DECAY - 10).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(wrong_pin(&reply), (Some("locked".into()), Some(0)), "{reply}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    // The administrator's unlock starts the count again.
    tokens::unlock(&server.state, &device.token_id).await.unwrap();
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0);
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(wrong_pin(&reply), (Some("wrong_pin".into()), Some(1)), "{reply}");
    server.stop().await;
}

/// Makes [`RACERS`] sign-ins, answers each with a wrong number, and sends the answers all at
/// once; their replies, and the tries left they say, in order.
async fn wrong_answers_at_once(
    server: &Server,
    device: &mut Device,
    ws: &mut Ws,
) -> (Vec<(u16, Value)>, Vec<i64>) {
    let mut answers = Vec::new();
    for _ in 0..RACERS {
        let (_, body) = signed_in(server).await;
        let number = body["number"].as_u64().unwrap();
        let request = device.next_push(ws).await;
        let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number);
        answers.push((device.clone(), device.approve(&request, wrong, None)));
    }
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = answers
        .into_iter()
        .map(|(device, answer)| {
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                device.send(&answer).await
            })
        })
        .collect();
    let replies: Vec<(u16, Value)> =
        join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    let mut left: Vec<i64> =
        replies.iter().map(|(_, r)| r["triesLeft"].as_i64().unwrap()).collect();
    left.sort_unstable();
    (replies, left)
}

/// Wrong numbers sent at once are each counted: the tries left they are told are all
/// different, and the count is their number.
async fn concurrent_wrong_answers_count_each(database: &str) {
    let config = Config {
        max_tries: i64::try_from(RACERS).unwrap() + 1,
        deny_cooldown: 0,
        max_pending_per_user: i64::try_from(RACERS).unwrap(),
        ..Config::default()
    };
    let (server, mut device, mut ws) = alice(database, config).await;
    let (replies, left) = wrong_answers_at_once(&server, &mut device, &mut ws).await;
    let expected: Vec<i64> = (1..=i64::try_from(RACERS).unwrap()).collect();
    assert_eq!(left, expected, "each counted once: {replies:?}");
    assert_eq!(
        server.count("SELECT failed_tries FROM tokens").await,
        i64::try_from(RACERS).unwrap()
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    server.stop().await;
}

/// The next notice about `device`'s token of `kind` on the socket (skipping anything else),
/// checked as the extension checks it.
async fn next_notice(device: &Device, ws: &mut Ws, kind: NoticeKind) -> TokenNotice {
    loop {
        let message = next_json(ws).await;
        if message["type"] != "notice" {
            continue;
        }
        let notice: TokenNotice = serde_json::from_value(message["notice"].clone()).unwrap();
        assert_eq!(notice.token_id, device.token_id);
        notice.verify(&device.keys.request).unwrap();
        if notice.kind == kind {
            return notice;
        }
    }
}

/// A wrong number on the laptop is told, with its time, to alice's phone and to the laptop
/// itself (a copy of it may be the one answering), and kept for a device that was away.
async fn each_failed_approval_is_told_to_every_device_of_the_person(database: &str) {
    let (server, mut laptop, mut laptop_ws) = alice(database, Config::default()).await;
    let phone = Device::enroll(&server.link("alice").await, "phone").await;
    let mut phone_ws = phone.connect().await;
    let (_, body) = signed_in(&server).await;
    let number = body["number"].as_u64().unwrap();
    let request = laptop.next_push(&mut laptop_ws).await;
    let wrong = request.choices.unwrap().into_iter().find(|c| u64::from(*c) != number);
    let before = now();
    let (_, reply) = laptop.approve_send(&request, wrong, None).await;
    assert_eq!(reply["reason"], "wrong_number", "{reply}");
    for (device, ws) in [(&phone, &mut phone_ws), (&laptop, &mut laptop_ws)] {
        let notice = next_notice(device, ws, NoticeKind::FailedApprovals).await;
        assert!((before..=now()).contains(&notice.at), "{}", notice.at);
    }
    let (_, polled) = phone.poll_raw().await;
    let kinds: Vec<&str> =
        polled["notices"].as_array().unwrap().iter().filter_map(|n| n["kind"].as_str()).collect();
    assert!(kinds.contains(&"failed_approvals"), "{polled}");
    server.stop().await;
}

/// One wrong PIN of alice's, counted at about `now()` under the default decay.
async fn one_failure(database: &str) -> (Server, Device) {
    let (server, mut device, mut ws) = alice(database, pin_config(5)).await;
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(reply["triesLeft"], 4, "{reply}");
    (server, device)
}

/// The count is a number of failures, whatever decay was in force when it was written: a
/// server restarted with a decay of an hour rather than a day counts one failure more, and
/// forgives one an hour from then on.
async fn changing_the_decay_only_changes_the_pace(database: &str) {
    let (server, device) = one_failure(database).await;
    let (db, id, t) = (&server.state.db, &device.token_id, i64::try_from(now()).unwrap());
    let count = store::tokens::fail_try(db, id, t + 5, 3600).await.unwrap().unwrap().failed;
    assert_eq!(count, 2, "one failure kept is one failure, under any decay");
    // Two hours after the last one, two are forgiven: the next is the only one counted.
    let count =
        store::tokens::fail_try(db, id, t + 5 + 2 * 3600, 3600).await.unwrap().unwrap().failed;
    assert_eq!(count, 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    server.stop().await;
}

/// A clock stepped back by three days (a bad NTP answer, a restored VM) adds nothing to the
/// count, and forgives nothing when it steps forward again.
async fn a_clock_step_back_adds_nothing(database: &str) {
    let (server, device) = one_failure(database).await;
    let (db, id, t) = (&server.state.db, &device.token_id, i64::try_from(now()).unwrap());
    let day = i64::try_from(FAILURE_DECAY).unwrap();
    let count = store::tokens::fail_try(db, id, t - 3 * day, day).await.unwrap().unwrap().failed;
    assert_eq!(count, 2, "a failure three days before the last is one failure");
    // Back at the right time, a few seconds later: both still count.
    let count = store::tokens::fail_try(db, id, t + 10, day).await.unwrap().unwrap().failed;
    assert_eq!(count, 3);
    server.stop().await;
}

/// The `token_locked` audit records of alice's token.
async fn lock_records(server: &Server) -> i64 {
    server.count("SELECT COUNT(*) FROM audit WHERE event = 'token_locked'").await
}

/// Wrong numbers sent at once past the limit lock the token once: one `token_locked` record,
/// and the answers that come after the lock are refused as locked without being counted.
async fn concurrent_wrong_answers_lock_the_token_once(database: &str) {
    let config = Config {
        max_tries: 3,
        deny_cooldown: 0,
        max_pending_per_user: i64::try_from(RACERS).unwrap(),
        ..Config::default()
    };
    let (server, mut device, mut ws) = alice(database, config).await;
    let (replies, left) = wrong_answers_at_once(&server, &mut device, &mut ws).await;
    let mut expected = vec![0; RACERS - 2];
    expected.extend([1, 2]);
    assert_eq!(left, expected, "{replies:?}");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'locked'").await, 1);
    assert_eq!(lock_records(&server).await, 1, "locked once");
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 3, "counted to the lock");
    server.stop().await;
}

/// Two wrong PINs lock a token with two tries. A day later one of them is forgiven, and an
/// answer that read the token while it was still active and is counted only now (it raced
/// the lock) does not lock it a second time: the lock is the change of state, seen in the
/// statement that makes it, not a count that happens to equal the limit.
async fn a_lock_is_recorded_once_even_after_a_failure_is_forgiven(database: &str) {
    let (server, mut device, mut ws) = alice(database, pin_config(2)).await;
    let stale = store::tokens::get(&server.state.db, &device.token_id).await.unwrap().unwrap();
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(reply["triesLeft"], 1, "{reply}");
    let (_, reply) = device.approve_send(&request, None, Some("0000")).await;
    assert_eq!(reply["reason"], "locked", "{reply}");
    assert_eq!(lock_records(&server).await, 1);
    pass(&server, FAILURE_DECAY).await;
    let late = tokens::fail_try(&server.state, &stale).await.unwrap();
    assert_eq!(late, None, "the token was locked already: nothing counted, no lock again");
    assert_eq!(lock_records(&server).await, 1);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 2);
    server.stop().await;
}

/// A wrong answer that read the token while it was active and is counted after an
/// administrator locked it, or after it was revoked, changes no count.
async fn a_wrong_answer_for_a_token_no_longer_active_counts_nothing(database: &str) {
    let (server, device, _ws) = alice(database, pin_config(3)).await;
    let stale = store::tokens::get(&server.state.db, &device.token_id).await.unwrap().unwrap();
    tokens::lock_by_admin(&server.state, &device.token_id).await.unwrap();
    assert_eq!(tokens::fail_try(&server.state, &stale).await.unwrap(), None);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0, "locked: not counted");
    tokens::revoke(&server.state, &device.token_id).await.unwrap();
    assert_eq!(tokens::fail_try(&server.state, &stale).await.unwrap(), None);
    assert_eq!(server.count("SELECT failed_tries FROM tokens").await, 0, "revoked: not counted");
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'revoked'").await, 1);
    server.stop().await;
}

/// An administrator's unlock racing wrong answers: the unlock clears the state and the count
/// at once, so every try is counted either before it (on a locked token: not at all) or after
/// it (from none), and no round leaves the token locked without the failures that lock it,
/// nor active with more than the tries counted after the unlock.
async fn an_unlock_racing_wrong_answers_clears_state_and_count_at_once(database: &str) {
    const ROUNDS: usize = 30;
    const TRIES: usize = 3;
    let (server, device, _ws) = alice(database, pin_config(2)).await;
    let state = &server.state;
    let stale = store::tokens::get(&state.db, &device.token_id).await.unwrap().unwrap();
    for round in 0..ROUNDS {
        // Locked by its failures, the count at the limit.
        while tokens::fail_try(state, &stale).await.unwrap().is_some_and(|(_, locked)| !locked) {}
        let unlock = {
            let state = state.clone();
            let id = device.token_id.clone();
            tokio::spawn(async move { tokens::unlock(&state, &id).await.unwrap() })
        };
        let tries: Vec<_> = (0..TRIES)
            .map(|_| {
                let (state, stale) = (state.clone(), stale.clone());
                tokio::spawn(async move { tokens::fail_try(&state, &stale).await.unwrap() })
            })
            .collect();
        unlock.await.unwrap();
        let counted = join_all(tries).await.into_iter().filter(|t| t.as_ref().unwrap().is_some());
        let counted = i64::try_from(counted.count()).unwrap();
        let row = store::tokens::get(&state.db, &device.token_id).await.unwrap().unwrap();
        assert_eq!(row.failed_tries, counted, "round {round}: each counted try, from none");
        assert_eq!(
            row.state == pushotp_server::states::TokenState::Locked,
            counted >= 2,
            "round {round}: locked exactly when the count reached the limit ({})",
            row.state
        );
        if row.state != pushotp_server::states::TokenState::Locked {
            tokens::lock_by_admin(state, &device.token_id).await.unwrap();
            tokens::unlock(state, &device.token_id).await.unwrap();
        }
    }
    server.stop().await;
}

/// A right answer whose passcode was taken while the token was active, and whose approval
/// comes after an administrator locked it, approves nothing: the approval itself requires the
/// token active, in the statement that records it.
async fn an_approval_after_an_administrators_lock_approves_nothing(database: &str) {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let config = Config { number_matching: false, ..Config::default() };
    let (server, device, mut ws) = alice(database, config).await;
    signed_in(&server).await;
    let request = device.next_push(&mut ws).await;
    let id = Base64UrlUnpadded::encode_string(&request.id);
    let db = &server.state.db;
    let t = i64::try_from(now()).unwrap();
    assert!(store::requests::claim(db, &id, t, t).await.unwrap(), "the answer holds it");
    tokens::lock_by_admin(&server.state, &device.token_id).await.unwrap();
    assert!(!store::requests::approve(db, &id).await.unwrap(), "locked first: not approved");
    server.stop().await;
}

/// Someone who knows alice's password can send her pushes, but only answers tagged under her
/// device's channel key are counted: answers the bomber makes up for those pushes, one with
/// each number offered, count nothing, and a token with a single try stays active.
async fn a_push_bomber_cannot_lock_the_token(database: &str) {
    let config =
        Config { max_tries: 1, deny_cooldown: 0, max_pending_per_user: 10, ..Config::default() };
    let (server, device, mut ws) = alice(database, config).await;
    // The bomber's guess at the keys: anything but the device's.
    let guessed = pushotp::Secret::from_bytes(vec![7u8; 32]).unwrap();
    for _ in 0..3 {
        signed_in(&server).await;
        let request = device.next_push(&mut ws).await;
        for choice in request.choices.unwrap() {
            let answer = pushotp::push::Answer::approve(
                &request,
                Some(choice),
                "000000",
                None,
                now(),
                &guessed,
                &guessed,
            )
            .unwrap();
            let (status, reply) = device.send(&answer).await;
            assert_eq!(status, 401, "{reply}");
        }
    }
    assert_eq!(server.count("SELECT COUNT(*) FROM tokens WHERE state = 'active'").await, 1);
    assert_eq!(server.count("SELECT MAX(failed_tries) FROM tokens").await, 0, "nothing counted");
    server.stop().await;
}

/// What `token list` shows: the decay the server was last started with (kept, the later start
/// winning) and each token's count as it stands now under it, not as last stored.
async fn the_count_now_and_the_decay_in_force_are_known_to_the_command_line(database: &str) {
    let (server, device) = one_failure(database).await;
    let db = &server.state.db;
    assert_eq!(tokens::failure_decay_in_force(db).await.unwrap(), FAILURE_DECAY, "never kept");
    for decay in [7200, 3600] {
        let state = pushotp_server::AppState {
            config: std::sync::Arc::new(Config { failure_decay: decay, ..Config::default() }),
            ..server.state.clone()
        };
        tokens::record_failure_decay(&state).await.unwrap();
        assert_eq!(tokens::failure_decay_in_force(db).await.unwrap(), decay);
    }
    let row = store::tokens::get(db, &device.token_id).await.unwrap().unwrap();
    let (t, hour) = (row.last_failed_at, 3600);
    assert_eq!((row.failed_tries_at(t, hour), row.failed_tries_at(t + hour - 1, hour)), (1, 1));
    assert_eq!(row.failed_tries_at(t + hour, hour), 0);
    assert_eq!(row.failed_tries_at(t - 10 * hour, hour), 1, "a clock stepped back forgives none");
    server.stop().await;
}
