//! Rebuilds the server when a migration is added: sqlx's `migrate!` embeds the folder's files
//! at compile time, and Cargo does not watch the folder by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
