//! The real server binary, killed with SIGKILL in the middle of a broadcast
//! and started again: every subscription still gets its message.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fake_push::{Behavior, FakePushService, FakeSubscription};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{ALICE, Backend, backends, basic, fresh_postgres_schema};

/// Subscriptions the broadcast goes to.
const SUBSCRIPTIONS: usize = 2_000;
/// How long the fake push service takes to answer each message.
const SEND_DELAY: Duration = Duration::from_millis(30);
/// Sends in flight at once, over every push service.
const CONCURRENCY: usize = 32;
const PATIENCE: Duration = Duration::from_secs(90);

/// The `kinto-push` binary, running on a loopback port.
struct RealServer {
    child: Child,
    url: String,
}

impl RealServer {
    async fn start(database_url: &str, push_origin: &str, log: &std::path::Path) -> Self {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_kinto-push"))
            .env("KINTO_PUSH_LISTEN", format!("127.0.0.1:{port}"))
            .env("KINTO_PUSH_DATABASE_URL", database_url)
            .env("KINTO_PUSH_PUSH_ALLOWED_ORIGINS", push_origin)
            .env(
                "KINTO_PUSH_VAPID_SUBJECT",
                "mailto:tests@kinto-push.example",
            )
            .env("KINTO_PUSH_PUSH_CONCURRENCY", CONCURRENCY.to_string())
            .env(
                "KINTO_PUSH_PUSH_ORIGIN_CONCURRENCY",
                CONCURRENCY.to_string(),
            )
            .env("KINTO_PUSH_PUSH_TIMEOUT_SECS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_up().await;
        server
    }

    async fn wait_until_up(&self) {
        let deadline = Instant::now() + PATIENCE;
        let heartbeat = format!("{}/v1/__lbheartbeat__", self.url);
        while reqwest::get(&heartbeat).await.is_err() {
            assert!(Instant::now() < deadline, "the server never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .header("authorization", basic(ALICE))
            .json(&body)
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        response.json().await.expect("a JSON body")
    }

    async fn put(&self, path: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}{path}", self.url))
            .header("authorization", basic(ALICE))
            .json(&json!({"data": {}}))
            .send()
            .await
            .expect("the server answers");
        assert!(
            response.status().is_success(),
            "PUT {path}: {}",
            response.status()
        );
    }

    /// SIGKILL: no shutdown, no draining, whatever was in flight is cut.
    async fn kill(mut self) {
        self.child.kill().await.expect("the server is killed");
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

async fn subscribe_all(server: &RealServer, browsers: &[FakeSubscription]) {
    for chunk in browsers.chunks(25) {
        let requests: Vec<Value> = chunk
            .iter()
            .map(|browser| {
                json!({"method": "POST", "path": "/push/subscriptions", "body": {"data": {
                    "endpoint": browser.endpoint,
                    "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
                    "channels": ["/buckets/b"],
                }}})
            })
            .collect();
        let answer = server
            .post("/v1/batch", json!({ "requests": requests }))
            .await;
        for response in answer["responses"].as_array().expect("responses") {
            assert_eq!(response["status"], 201, "{response}");
        }
    }
}

/// How many subscriptions got nothing, and how many messages came twice or
/// more.
fn tally(fake: &FakePushService, browsers: &[FakeSubscription]) -> (usize, usize) {
    let counts = fake.received_counts();
    let mut missing = 0;
    let mut duplicates = 0;
    for browser in browsers {
        match counts.get(&browser.token).copied().unwrap_or_default() {
            0 => missing += 1,
            count => duplicates += count - 1,
        }
    }
    (missing, duplicates)
}

#[tokio::test]
async fn a_server_killed_mid_broadcast_delivers_the_rest_after_a_restart() {
    for backend in backends() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", folder.path().join("db.sqlite3").display()),
            Backend::Postgres => fresh_postgres_schema().await,
        };
        let log = folder.path().join("server.log");
        let fake = FakePushService::start().await;
        let browsers: Vec<FakeSubscription> = (0..SUBSCRIPTIONS)
            .map(|_| fake.mint_with(Behavior::Slow(SEND_DELAY)))
            .collect();
        let server = RealServer::start(&database_url, fake.origin(), &log).await;
        server.put("/v1/buckets/b").await;
        subscribe_all(&server, &browsers).await;

        let message = json!({"data": {"channel": "/buckets/b", "title": "t", "body": "b"}});
        let queued = server.post("/v1/push/messages", message).await;
        assert_eq!(queued["data"]["subscriptions"], SUBSCRIPTIONS);
        let started = SUBSCRIPTIONS as u64 / 4;
        assert!(
            fake.wait_for_accepted(started, PATIENCE).await,
            "{backend:?}"
        );
        server.kill().await;
        let before_restart = fake.accepted();
        let restarted = RealServer::start(&database_url, fake.origin(), &log).await;

        // Deliveries leased by the killed process wait for their lease to
        // run out: wait for every subscription, not for a count.
        let deadline = Instant::now() + PATIENCE;
        let (missing, duplicates) = loop {
            let (missing, duplicates) = tally(&fake, &browsers);
            if missing == 0 || Instant::now() > deadline {
                break (missing, duplicates);
            }
            fake.wait_for_accepted(fake.accepted() + 1, Duration::from_secs(1))
                .await;
        };
        assert_eq!(
            missing,
            0,
            "{backend:?}: subscriptions got nothing; refused: {:?} (see {})",
            fake.refused().first(),
            log.display()
        );
        assert!(
            before_restart < SUBSCRIPTIONS as u64,
            "the kill came after the broadcast ended"
        );
        // Only sends in flight at the kill may go twice.
        assert!(
            duplicates <= CONCURRENCY,
            "{backend:?}: {duplicates} duplicates, more than the {CONCURRENCY} in flight"
        );
        restarted.kill().await;
    }
}
