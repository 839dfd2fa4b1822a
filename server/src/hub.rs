//! Live connections: each device socket registers for its tokens and gets new push requests the
//! moment they are made; each login page waiting on its event stream gets the outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, mpsc};

/// A login's progress, as its event stream reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEvent {
    /// The login it belongs to.
    pub login_id: String,
    /// `approved`, `denied`, `expired`, `locked` or `rejected`.
    pub state: String,
    /// Why, for `rejected` (`wrong_number`, `wrong_pin`, …).
    pub reason: Option<String>,
}

/// The registry of live connections.
#[derive(Clone)]
pub struct Hub {
    devices: Arc<Mutex<HashMap<String, Vec<mpsc::UnboundedSender<String>>>>>,
    logins: broadcast::Sender<LoginEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        Self { devices: Arc::default(), logins: broadcast::channel(1024).0 }
    }
}

impl Hub {
    /// Registers a device socket for `token_ids`; it receives each push request's JSON.
    pub fn register(&self, token_ids: &[String], sender: &mpsc::UnboundedSender<String>) {
        let mut devices = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        for id in token_ids {
            devices.entry(id.clone()).or_default().push(sender.clone());
        }
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

    /// Tells the login pages that are listening.
    pub fn login_event(&self, event: LoginEvent) {
        // No listener is fine: the page reads the state again when it reconnects.
        let _ = self.logins.send(event);
    }

    /// A stream of all login events; a listener filters for its own login.
    pub fn subscribe_logins(&self) -> broadcast::Receiver<LoginEvent> {
        self.logins.subscribe()
    }
}
