//! The states of tokens, push requests and logins, and the reasons a login or an answer is
//! refused, as Rust enums.
//!
//! The database stores each as the same lowercase word it always has (`"pending"`,
//! `"password_ok"`, …), so existing SQLite and PostgreSQL databases keep working; this module
//! is the one place where a word becomes a state and back. Queries bind [`as_str`] values
//! instead of spelling the words in SQL.
//!
//! [`as_str`]: TokenState::as_str

use std::fmt;
use std::str::FromStr;

/// A stored word that names no variant: the database holds something this server never wrote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownState {
    /// What was being read (`"token state"`, …).
    pub kind: &'static str,
    /// The word found.
    pub value: String,
}

/// Declares an enum stored as fixed words, with its conversions both ways and serde as the same
/// words (login events travel between nodes as JSON).
macro_rules! stored_words {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            /// The word stored in the database and sent to pages.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;

            fn from_str(word: &str) -> Result<Self, UnknownState> {
                match word {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(UnknownState { kind: $kind, value: word.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so that widths in format strings (the CLI's columns) apply.
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let word = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                word.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

stored_words! {
    /// A push token's life (`tokens.state`).
    TokenState, "token state" {
        /// Created; its activation link has not been redeemed yet.
        Pending = "pending",
        /// Redeemed from a link that a signed-in session made ("Add a push authenticator"):
        /// gets no push and answers nothing until that session confirms the comparison code
        /// (docs/protocol.md §3); removed if it does not within the link's lifetime.
        Unconfirmed = "unconfirmed",
        /// Enrolled on a device; receives push requests.
        Active = "active",
        /// Too many failed tries (or reported): receives nothing new until an administrator
        /// unlocks it, but may still deny and be removed.
        Locked = "locked",
        /// Removed by its device; never talks to the server again.
        Revoked = "revoked",
    }
}

stored_words! {
    /// A push login request's life (`push_requests.state`). Only a `Pending` request can be
    /// answered, and it leaves that state in one `UPDATE … WHERE state = 'pending'`; only a
    /// wrong PIN with tries left hands it back.
    RequestState, "request state" {
        /// Sent; waits for its answer.
        Pending = "pending",
        /// Claimed by an answer being processed (pending again after a wrong PIN with tries
        /// left).
        Answering = "answering",
        /// Approved with a right answer.
        Approved = "approved",
        /// Denied on the device.
        Denied = "denied",
        /// Denied and reported as fraud.
        Reported = "reported",
        /// Answered wrongly (number, passcode, the PIN's last try) or while the token was
        /// locked.
        Rejected = "rejected",
        /// Its time ran out.
        Expired = "expired",
        /// Replaced by a newer push, closed by its login's outcome, or its token removed.
        Cancelled = "cancelled",
    }
}

stored_words! {
    /// A sign-in's life (`logins.state`), as its login page sees it.
    LoginState, "login state" {
        /// The password was right; no push was sent yet.
        PasswordOk = "password_ok",
        /// Pushes are out; the page shows the number to pick.
        Waiting = "waiting",
        /// Approved on a device or by a typed passcode; a session can be opened once.
        Approved = "approved",
        /// Denied (or reported) on a device.
        Denied = "denied",
        /// Every push expired unanswered.
        Expired = "expired",
        /// The token locked on this sign-in's answer.
        Locked = "locked",
        /// A wrong answer; another push may follow.
        Rejected = "rejected",
        /// The session was opened.
        Done = "done",
    }
}

impl LoginState {
    /// The states from which a login still moves to an outcome. Once approved, denied or
    /// locked it stays so, and a late answer to another copy of its request changes nothing.
    pub const OPEN: [Self; 4] = [Self::PasswordOk, Self::Waiting, Self::Rejected, Self::Expired];
}

stored_words! {
    /// Why an answer or a sign-in was refused (`logins.reason`, the answer's `reason`).
    Reason, "reason" {
        /// The request's time ran out.
        Expired = "expired",
        /// The request was replaced or its login ended first.
        Cancelled = "cancelled",
        /// The token is locked.
        Locked = "locked",
        /// The approval's PIN (its passcode) was wrong.
        WrongPin = "wrong_pin",
        /// The approval's answer tag was wrong (a token without PIN).
        BadAnswer = "bad_answer",
        /// The approval's answer tag was right (so was the PIN) but its passcode was not:
        /// the device's `K_otp` is not the server's. Counted as no failed try.
        BadPasscode = "bad_passcode",
        /// The number picked was not the page's.
        WrongNumber = "wrong_number",
        /// The person reported the request as fraud.
        Reported = "reported",
        /// The approval was not made in the browser that shows the login page (it carried no
        /// binding of that page, or another's), and the server takes only bound approvals.
        Unbound = "unbound",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_fills_the_width_it_is_given() {
        // The CLI's `token list` lines up its columns with `{:<8}`.
        assert_eq!(format!("[{:<8}]", TokenState::Active), "[active  ]");
    }

    fn round_trips<T>(all: &[T])
    where
        T: Copy
            + PartialEq
            + fmt::Debug
            + FromStr<Err = UnknownState>
            + fmt::Display
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        for &state in all {
            let word = state.to_string();
            assert_eq!(word.parse::<T>(), Ok(state), "{word}");
            // Serde (login events between nodes) uses the same word.
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{word}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), state);
        }
        let words: std::collections::HashSet<String> = all.iter().map(T::to_string).collect();
        assert_eq!(words.len(), all.len(), "two variants share a word");
    }

    #[test]
    fn every_state_round_trips_through_its_stored_word() {
        round_trips(TokenState::ALL);
        round_trips(RequestState::ALL);
        round_trips(LoginState::ALL);
        round_trips(Reason::ALL);
        // The words of the databases written so far.
        let token: Vec<&str> = TokenState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(token, ["pending", "unconfirmed", "active", "locked", "revoked"]);
        let request: Vec<&str> = RequestState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            request,
            [
                "pending",
                "answering",
                "approved",
                "denied",
                "reported",
                "rejected",
                "expired",
                "cancelled"
            ]
        );
        let login: Vec<&str> = LoginState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            login,
            [
                "password_ok",
                "waiting",
                "approved",
                "denied",
                "expired",
                "locked",
                "rejected",
                "done"
            ]
        );
    }

    #[test]
    fn an_unknown_word_is_a_typed_error() {
        assert_eq!(
            "Pending".parse::<RequestState>(),
            Err(UnknownState { kind: "request state", value: "Pending".into() })
        );
        assert_eq!(
            "".parse::<TokenState>(),
            Err(UnknownState { kind: "token state", value: String::new() })
        );
        assert_eq!(
            "logged_in".parse::<LoginState>().unwrap_err().to_string(),
            "unknown login state \"logged_in\""
        );
        assert!("why".parse::<Reason>().is_err());
        assert!(serde_json::from_str::<LoginState>("\"finished\"").is_err());
    }
}
