//! Live connections: each device socket registers for its tokens and gets new push requests the
//! moment they are made; each login page waiting on its event stream gets the outcome. When the
//! server stops, all of them are told to end at once ([`Hub::close`]).
//!
//! With PostgreSQL several server nodes share one database, and a device's socket may be on
//! another node than the login page: every event is then also published with `pg_notify`, and
//! every node listens and delivers to its own connections.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tokio::sync::{mpsc, watch};

use crate::states::{LoginState, Reason};

/// The PostgreSQL notification channel the nodes share.
const CHANNEL: &str = "pushotp_events";

/// A login's progress, as its event stream reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginEvent {
    /// The login it belongs to.
    pub login_id: String,
    /// Where the login is now: approved, denied, expired, locked or rejected.
    pub state: LoginState,
    /// Why, for a rejected or denied login (wrong number, wrong PIN, reported, …).
    pub reason: Option<Reason>,
}

/// What nodes tell each other.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Note {
    Push { node: String, token_id: String, message: String },
    Login { node: String, event: LoginEvent },
}

/// The login pages waiting on one login: each page's id and channel.
type Waiters = HashMap<String, Vec<(u64, mpsc::UnboundedSender<LoginEvent>)>>;

/// The registry of live connections.
#[derive(Clone)]
pub struct Hub {
    devices: Arc<Mutex<HashMap<String, Vec<mpsc::UnboundedSender<String>>>>>,
    /// Login pages by the login they wait on, so that an outcome goes to its own pages only
    /// (one broadcast to every waiting page made each outcome cost as much as there were pages).
    logins: Arc<Mutex<Waiters>>,
    next_waiter: Arc<AtomicU64>,
    /// This node's name, so that it ignores its own notifications.
    node: String,
    /// The shared PostgreSQL database, when there is one.
    shared: Option<AnyPool>,
    /// Set when the server stops: streams and sockets end instead of waiting for their next
    /// event.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            devices: Arc::default(),
            logins: Arc::default(),
            next_waiter: Arc::default(),
            node: crate::ids::random_id("node_", 9),
            shared: None,
            closing: Arc::new(watch::Sender::new(false)),
        }
    }
}

impl Hub {
    /// A hub that also tells the other nodes on `database_url` (PostgreSQL) and hears them.
    pub async fn shared(pool: AnyPool, database_url: &str) -> anyhow::Result<Self> {
        let hub = Self { shared: Some(pool), ..Self::default() };
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        let me = hub.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(notification) => me.heard(notification.payload()),
                    // PgListener reconnects by itself on the next recv; a pause avoids a
                    // busy loop while the database is away.
                    Err(err) => {
                        tracing::warn!(error = %err, "listening for other nodes");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(hub)
    }

    fn heard(&self, payload: &str) {
        match serde_json::from_str::<Note>(payload) {
            Ok(Note::Push { node, token_id, message }) if node != self.node => {
                self.send_to_token(&token_id, &message);
            }
            Ok(Note::Login { node, event }) if node != self.node => {
                self.tell_pages(&event);
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "unreadable note from another node"),
        }
    }

    async fn tell_others(&self, note: &Note) {
        let Some(pool) = &self.shared else { return };
        let result = match serde_json::to_string(note) {
            Ok(payload) => sqlx::query("SELECT 1 AS sent FROM (SELECT pg_notify($1, $2)) AS n")
                .bind(CHANNEL)
                .bind(payload)
                .execute(pool)
                .await
                .map(drop),
            Err(err) => Err(sqlx::Error::Protocol(err.to_string())),
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "telling the other nodes");
        }
    }

    /// Delivers a message for the token's device (a push request, or the notice of its end) to
    /// the token's sockets on every node; returns how many sockets on this node took it.
    pub async fn publish_push(&self, token_id: &str, message: &str) -> usize {
        let delivered = self.send_to_token(token_id, message);
        let note = Note::Push {
            node: self.node.clone(),
            token_id: token_id.into(),
            message: message.into(),
        };
        self.tell_others(&note).await;
        delivered
    }
    /// Registers a device socket for `token_ids`; it receives each push request's JSON.
    pub fn register(&self, token_ids: &[String], sender: &mpsc::UnboundedSender<String>) {
        let mut devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        for id in token_ids {
            let senders = devices.entry(id.clone()).or_default();
            senders.retain(|s| !s.is_closed());
            senders.push(sender.clone());
        }
    }

    /// Removes a socket's sender when its channel ends.
    pub fn unregister(&self, token_ids: &[String], sender: &mpsc::UnboundedSender<String>) {
        let mut devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        for id in token_ids {
            if let Some(senders) = devices.get_mut(id) {
                senders.retain(|s| !s.same_channel(sender));
                if senders.is_empty() {
                    devices.remove(id);
                }
            }
        }
    }

    /// Tells every live connection of this node that the server is stopping: login pages' event
    /// streams end and device sockets close at once, so that a graceful shutdown does not wait
    /// for them (the pages reconnect, the devices too, and both pick up where they were).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`close`](Self::close) was called, at once if it already was.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the hub is gone, which ends everything anyway.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// Waits until no device socket is registered on this node, at most `limit`; whether none
    /// is left.
    pub async fn sockets_gone(&self, limit: std::time::Duration) -> bool {
        let gone = || self.devices.lock().unwrap_or_else(PoisonError::into_inner).is_empty();
        let deadline = tokio::time::Instant::now() + limit;
        while !gone() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        true
    }

    /// How many sockets are registered for `token_id` on this node.
    pub fn sockets(&self, token_id: &str) -> usize {
        let devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        devices.get(token_id).map_or(0, Vec::len)
    }

    /// Sends `message` to every live socket of `token_id`; returns how many took it. Closed
    /// sockets are dropped on the way.
    pub fn send_to_token(&self, token_id: &str, message: &str) -> usize {
        let mut devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(senders) = devices.get_mut(token_id) else { return 0 };
        senders.retain(|s| s.send(message.to_owned()).is_ok());
        let delivered = senders.len();
        if senders.is_empty() {
            devices.remove(token_id);
        }
        delivered
    }

    /// Tells the login pages that are listening, on every node.
    pub async fn login_event(&self, event: LoginEvent) {
        // No listener is fine: the page reads the state again when it reconnects.
        self.tell_pages(&event);
        self.tell_others(&Note::Login { node: self.node.clone(), event }).await;
    }

    /// Sends `event` to this node's pages waiting on its login.
    fn tell_pages(&self, event: &LoginEvent) {
        let mut logins = self.logins.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pages) = logins.get_mut(&event.login_id) {
            pages.retain(|(_, page)| page.send(event.clone()).is_ok());
            if pages.is_empty() {
                logins.remove(&event.login_id);
            }
        }
    }

    /// Waits for the events of one login, until the returned watch is dropped.
    pub fn watch_login(&self, login_id: &str) -> LoginWatch {
        let (sender, events) = mpsc::unbounded_channel();
        let id = self.next_waiter.fetch_add(1, Ordering::Relaxed);
        let mut logins = self.logins.lock().unwrap_or_else(PoisonError::into_inner);
        logins.entry(login_id.to_owned()).or_default().push((id, sender));
        LoginWatch { events, hub: self.clone(), login_id: login_id.to_owned(), id }
    }

    /// How many pages wait on `login_id` on this node.
    pub fn pages(&self, login_id: &str) -> usize {
        let logins = self.logins.lock().unwrap_or_else(PoisonError::into_inner);
        logins.get(login_id).map_or(0, Vec::len)
    }
}

/// One login page's subscription to its login's events (from [`Hub::watch_login`]); leaves
/// the hub when dropped.
pub struct LoginWatch {
    events: mpsc::UnboundedReceiver<LoginEvent>,
    hub: Hub,
    login_id: String,
    id: u64,
}

impl LoginWatch {
    /// The login's next event.
    pub async fn next(&mut self) -> Option<LoginEvent> {
        self.events.recv().await
    }
}

impl Drop for LoginWatch {
    fn drop(&mut self) {
        let mut logins = self.hub.logins.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pages) = logins.get_mut(&self.login_id) {
            pages.retain(|(id, _)| *id != self.id);
            if pages.is_empty() {
                logins.remove(&self.login_id);
            }
        }
    }
}
