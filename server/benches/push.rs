//! Broadcast throughput: one change pushed to 10,000 subscriptions at a fake
//! push service on loopback, against the cost of the cryptography alone.
//!
//! `cargo bench -p server --bench push [-- --subscriptions N]`
//!
//! Under `cargo test` (no `--bench` argument) it runs a small broadcast, so
//! that the benchmark keeps working.
//!
//! The release server runs pinned to CPU 0 (with `taskset`, when there is
//! one), this process and the fake service on the others; the fake runs in
//! fast mode (no decryption, no signature check) so that it measures the
//! sender. Reported: messages per second from the write to the last message
//! received, the server's CPU time per message (from `/proc`), and the
//! ceiling of the cryptography on one core: encrypting a message and signing
//! a VAPID token for it, as a sender without a token cache does.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_push::{FakePushService, FakeSubscription};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use web_push::{
    ContentEncoding, SubscriptionInfo, Urgency, VapidSignatureBuilder, WebPushMessageBuilder,
};

const DEFAULT_SUBSCRIPTIONS: usize = 10_000;
/// The broadcast of a run under `cargo test`.
const SMOKE_SUBSCRIPTIONS: usize = 50;
/// Messages encrypted and signed to measure the ceiling.
const CEILING_MESSAGES: usize = 2_000;
const CREDENTIALS: &str = "Basic YmVuY2g6YmVuY2g="; // bench:bench
/// The longest the broadcast may take before the run is called failed.
const PATIENCE: Duration = Duration::from_secs(300);
/// A payload of the size the server sends for a one-record change.
const PAYLOAD: &str = concat!(
    r#"{"channel":"/buckets/bench/collections/notes","bucket":"bench","#,
    r#""collection":"notes","action":"update","timestamp":1796320953243,"#,
    r#""ids":["8d6e4c55-2f3a-4f7e-9d7b-6a9e2b1c0f41"],"count":1,"#,
    r#""title":"notes was updated","body":"1 change","url":"/buckets/bench/collections/notes"}"#,
);

#[tokio::main]
async fn main() {
    let subscriptions = subscriptions_argument();
    let fake = FakePushService::start_fast().await;
    let browsers: Vec<FakeSubscription> = (0..subscriptions).map(|_| fake.mint()).collect();
    let folder = tempfile::tempdir().expect("a temporary folder");
    let database = format!("sqlite://{}", folder.path().join("bench.sqlite3").display());
    let mut server = start_server(&database, fake.origin()).await;
    let url = server.url.clone();
    let client = reqwest::Client::new();

    put(&client, &format!("{url}/v1/buckets/bench")).await;
    put(
        &client,
        &format!("{url}/v1/buckets/bench/collections/notes"),
    )
    .await;
    subscribe_all(&client, &url, &browsers).await;

    let cpu_before = cpu_seconds(server.pid);
    let started = Instant::now();
    put(
        &client,
        &format!("{url}/v1/buckets/bench/collections/notes/records/r1"),
    )
    .await;
    let expected = u64::try_from(subscriptions).unwrap_or(u64::MAX);
    let has_all = fake.wait_for_accepted(expected, PATIENCE).await;
    let elapsed = started.elapsed();
    let cpu = cpu_seconds(server.pid) - cpu_before;
    server.stop().await;
    assert!(
        has_all,
        "only {} of {subscriptions} messages arrived",
        fake.accepted()
    );

    let (ceiling, cached) = crypto_ceiling(&browsers[0], CEILING_MESSAGES.min(subscriptions));
    let count = subscriptions as f64;
    let rate = count / elapsed.as_secs_f64();
    let cpu_per_message = cpu / count * 1_000.0;
    println!("broadcast of one change to {subscriptions} subscriptions (fast fake service)");
    println!("| measure | value |");
    println!("|---|---|");
    println!("| messages per second (write to last message) | {rate:.0} |");
    println!("| broadcast time | {:.2} s |", elapsed.as_secs_f64());
    println!("| server CPU time per message | {cpu_per_message:.3} ms |");
    println!(
        "| messages per server CPU second | {:.0} |",
        count / cpu.max(f64::EPSILON)
    );
    println!("| crypto-only ceiling, encrypt + sign, one core | {ceiling:.0} msg/s |");
    println!("| encrypt with a cached VAPID token, one core | {cached:.0} msg/s |");
    println!(
        "| throughput / crypto-only ceiling | {:.0} % |",
        rate / ceiling * 100.0
    );
}

fn subscriptions_argument() -> usize {
    let arguments: Vec<String> = std::env::args().collect();
    if !arguments.iter().any(|argument| argument == "--bench") {
        return SMOKE_SUBSCRIPTIONS;
    }
    arguments
        .windows(2)
        .find(|pair| pair[0] == "--subscriptions")
        .and_then(|pair| pair[1].parse().ok())
        .unwrap_or(DEFAULT_SUBSCRIPTIONS)
}

struct Server {
    child: Child,
    pid: u32,
    url: String,
}

impl Server {
    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

async fn start_server(database: &str, push_origin: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let binary = env!("CARGO_BIN_EXE_kinto-push");
    let mut command = if std::path::Path::new("/usr/bin/taskset").exists() {
        let mut pinned = Command::new("/usr/bin/taskset");
        pinned.args(["-c", "0", binary]);
        pinned
    } else {
        Command::new(binary)
    };
    let child = command
        .env("KINTO_PUSH_LISTEN", format!("127.0.0.1:{port}"))
        .env("KINTO_PUSH_DATABASE_URL", database)
        .env("KINTO_PUSH_PUSH_ALLOWED_ORIGINS", push_origin)
        .env(
            "KINTO_PUSH_VAPID_SUBJECT",
            "mailto:bench@kinto-push.example",
        )
        .env("KINTO_PUSH_PUSH_CONCURRENCY", "128")
        .env("KINTO_PUSH_PUSH_ORIGIN_CONCURRENCY", "128")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let pid = child.id().expect("a running server");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{url}/v1/__lbheartbeat__"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server { child, pid, url }
}

async fn put(client: &reqwest::Client, url: &str) {
    let response = client
        .put(url)
        .header("authorization", CREDENTIALS)
        .json(&json!({"data": {}}))
        .send()
        .await
        .expect("the server answers");
    assert!(
        response.status().is_success(),
        "PUT {url}: {}",
        response.status()
    );
}

async fn subscribe_all(client: &reqwest::Client, url: &str, browsers: &[FakeSubscription]) {
    for chunk in browsers.chunks(25) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|browser| {
                json!({"method": "POST", "path": "/push/subscriptions", "body": {"data": {
                    "endpoint": browser.endpoint,
                    "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
                    "channels": ["/buckets/bench"],
                }}})
            })
            .collect();
        let response = client
            .post(format!("{url}/v1/batch"))
            .header("authorization", CREDENTIALS)
            .json(&json!({ "requests": requests }))
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_success(),
            "batch: {}",
            response.status()
        );
    }
}

/// User plus system CPU time of process `pid`, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|field| field.parse::<f64>().ok())
            .unwrap_or_default()
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    const TICKS_PER_SECOND: f64 = 100.0;
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// Messages per second on this thread, over `messages` of each kind:
/// encrypting and signing each one, and
/// encrypting each one with one token.
fn crypto_ceiling(browser: &FakeSubscription, messages: usize) -> (f64, f64) {
    let private_key = fresh_private_key();
    let subscription =
        SubscriptionInfo::new(browser.endpoint.as_str(), &browser.p256dh, &browser.auth);
    let origin = browser
        .endpoint
        .rsplitn(3, '/')
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    let sign = || {
        let mut signer =
            VapidSignatureBuilder::from_base64(&private_key, &subscription).expect("a VAPID key");
        signer.add_claim("aud", origin.as_str());
        signer.add_claim("sub", "mailto:bench@kinto-push.example");
        signer.build().expect("a signature")
    };
    let encrypt = |signature| {
        let mut builder = WebPushMessageBuilder::new(&subscription);
        builder.set_payload(ContentEncoding::Aes128Gcm, PAYLOAD.as_bytes());
        builder.set_ttl(86_400);
        builder.set_urgency(Urgency::Normal);
        builder.set_vapid_signature(signature);
        builder.build().expect("a message")
    };

    let started = Instant::now();
    for _ in 0..messages {
        std::hint::black_box(encrypt(sign()));
    }
    let ceiling = messages as f64 / started.elapsed().as_secs_f64();

    let token = sign();
    let started = Instant::now();
    for _ in 0..messages {
        std::hint::black_box(encrypt(token.clone()));
    }
    let cached = messages as f64 / started.elapsed().as_secs_f64();
    (ceiling, cached)
}

/// A random P-256 private key, base64url; a random 32-byte string is a valid
/// scalar all but about once in 2^32 tries.
fn fresh_private_key() -> String {
    use base64::Engine;

    loop {
        let mut bytes = [0_u8; 32];
        getrandom::fill(&mut bytes).expect("random bytes");
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if VapidSignatureBuilder::from_base64_no_sub(&key).is_ok() {
            return key;
        }
    }
}
