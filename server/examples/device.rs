//! A command-line PushOTP device on the core crate: enrolls from an activation link, waits for
//! push login requests on the WebSocket channel, and answers them as the person types.
//!
//! Run with `cargo run -p pushotp-server --example device -- 'pushotp://enroll?…'`.

#![allow(clippy::print_stdout, reason = "an interactive command-line program")]
#![allow(
    clippy::indexing_slicing,
    reason = "indexing a serde_json Value yields Null, never panics"
)]

use std::io::{BufRead, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use base64ct::{Base64UrlUnpadded, Encoding};
use futures_util::{SinkExt, StreamExt};
use pushotp::Hotp;
use pushotp::push::{
    ActivationLink, Answer, EnrollRequest, Enrolled, PushRequest, channel_auth_tag,
};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn ask(prompt: &str) -> anyhow::Result<String> {
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let link: ActivationLink =
        std::env::args().nth(1).context("usage: device 'pushotp://enroll?…'")?.parse()?;
    link.check_expiry(now())?;
    let mut nonce = [0u8; 16];
    rand::fill(&mut nonce);
    let request = EnrollRequest::new(&link, "Command-line device", nonce)?;
    let http = reqwest::Client::new();
    let reply = http.post(format!("{}/api/v1/enroll", link.server())).json(&request).send().await?;
    if !reply.status().is_success() {
        bail!("enrollment refused: {}", reply.text().await?);
    }
    let enrolled: Enrolled = reply.json().await?;
    let keys = enrolled.verify(link.secret(), &request)?;
    println!(
        "Enrolled token {} ({}) for {} at {}",
        enrolled.token_id, enrolled.token_name, enrolled.user, enrolled.issuer
    );
    let hotp = Hotp::new(enrolled.otp.algorithm(), enrolled.otp.digits())?;
    let mut counter = 0u64;

    let url = format!("{}/api/v1/devices/ws", link.server().replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else { continue };
        let message: Value = serde_json::from_str(&text)?;
        match message["type"].as_str() {
            Some("challenge") => {
                let nonce: [u8; 16] =
                    Base64UrlUnpadded::decode_vec(message["nonce"].as_str().unwrap_or(""))
                        .ok()
                        .and_then(|n| n.try_into().ok())
                        .context("a 16-byte challenge")?;
                let tag = channel_auth_tag(&keys.channel, &enrolled.token_id, &nonce);
                let auth = json!({ "type": "auth", "tokens": [{ "tokenId": enrolled.token_id, "tag": Base64UrlUnpadded::encode_string(&tag) }] });
                ws.send(Message::text(auth.to_string())).await?;
            }
            Some("ready") => println!("Waiting for sign-in requests (Ctrl-C to stop)…"),
            Some("push") => {
                let request: PushRequest = serde_json::from_value(message["request"].clone())?;
                if let Err(err) = request.verify(&keys.request, now()) {
                    println!("Dropped a request that does not verify: {err}");
                    continue;
                }
                let place = request
                    .place
                    .as_ref()
                    .map_or("unknown place".to_owned(), |p| format!("{}, {}", p.city, p.country));
                println!(
                    "\nSign-in to {} from {} ({}, {})",
                    request.app, request.origin, request.client_ip, place
                );
                let choices = request.choices.map(|c| format!(" {c:?}")).unwrap_or_default();
                let input = ask(&format!(
                    "Approve: type the number shown on the page{choices} (or 'a' without matching), 'd' deny, 'r' report: "
                ))?;
                let answer = match input.as_str() {
                    "d" => Answer::deny(&request, now(), &keys.channel),
                    "r" => Answer::report(&request, now(), &keys.channel),
                    other => {
                        let number = if other == "a" {
                            None
                        } else {
                            Some(other.parse::<u8>().context("a number")?)
                        };
                        let passcode = hotp.generate(&keys.otp, counter);
                        counter += 1;
                        Answer::approve(
                            &request,
                            number,
                            &passcode,
                            None,
                            now(),
                            &keys.channel,
                            &keys.answer,
                        )?
                    }
                };
                let reply: Value = http
                    .post(format!("{}/api/v1/answers", link.server()))
                    .json(&answer)
                    .send()
                    .await?
                    .json()
                    .await?;
                println!("Server: {reply}");
            }
            _ => println!("{message}"),
        }
    }
    Ok(())
}
