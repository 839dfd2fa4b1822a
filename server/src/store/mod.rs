//! Storage: every SQL statement of the server, one function per statement, grouped by table.
//!
//! The rest of the server never writes SQL. Each function here is one statement, so what is
//! atomic stays visible where it is written: a single-use claim is one `UPDATE … WHERE state =
//! 'pending'` whose affected-row count says who won, and a session opens once by one `UPDATE …
//! WHERE state = 'approved'`. The one exception is [`requests::insert_push`], a
//! transaction that checks the push limits and stores a push for one person at a time (it says
//! why one statement is not enough there). States are bound as parameters from [`crate::states`],
//! never spelt in SQL. Reads go to [`Db::pool`](crate::db::Db::pool), writes to
//! [`Db::writer`](crate::db::Db::writer). The statements use `$n` placeholders, which SQLite and
//! PostgreSQL both read through sqlx's `Any` driver.

pub mod audit;
pub mod logins;
pub mod reports;
pub mod requests;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;
