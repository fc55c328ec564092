//! The load generator: a fixed number of clients, each on its own keep-alive
//! connection, sending one request after the other as fast as answers come
//! (a closed loop), first for a warmup, then for the measurement.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::cpu::{CpuMeter, CpuUse};
use super::http::{Connection, Target};
use super::scenario::{ClientScript, Scenario};
use super::seed::Fixture;

/// How long one request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause before reconnecting after a connection failed.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
/// Distinct error descriptions kept per scenario; the rest are only counted.
const MAX_ERROR_KINDS: usize = 8;

/// How long, and how much, one scenario runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) clients: usize,
    pub(super) warmup: Duration,
    pub(super) measure: Duration,
    /// Requests a scenario may send, warmup included; the measurement ends
    /// early when they are used up.
    pub(super) max_requests: u64,
}

/// What one scenario measured.
pub(super) struct Measurement {
    pub(super) scenario: Scenario,
    /// Successful requests during the measurement.
    pub(super) successes: u64,
    /// Failed requests during the measurement: non-2xx answers, answers that
    /// failed their check, transport errors and timeouts.
    pub(super) errors: u64,
    /// Each error description with its count.
    pub(super) error_kinds: BTreeMap<String, u64>,
    /// Latency of every measured request, failures included, sorted.
    pub(super) latencies: Vec<Duration>,
    /// From the start of the measurement to the last measured answer.
    pub(super) elapsed: Duration,
    pub(super) cpu: CpuUse,
}

impl Measurement {
    /// Successful requests per second.
    pub(super) fn rate(&self) -> f64 {
        self.successes as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `fraction` of the requests answered (nearest
    /// rank).
    pub(super) fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (fraction * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    pub(super) fn max_latency(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// The time bounds every client of one run shares.
struct Schedule {
    measure_from: Instant,
    measure_until: Instant,
    max_requests: u64,
    /// Requests sent so far by all clients, warmup included.
    sent: AtomicU64,
}

/// What one client measured.
#[derive(Default)]
struct ClientTally {
    successes: u64,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
    last_answer: Option<Instant>,
}

/// Runs `scenario` with `limits.clients` clients and measures it.
pub(super) async fn run(
    target: &Target,
    fixture: &Fixture,
    scenario: Scenario,
    limits: Limits,
    meter: &CpuMeter,
) -> anyhow::Result<Measurement> {
    let start = Instant::now();
    let schedule = Arc::new(Schedule {
        measure_from: start + limits.warmup,
        measure_until: start + limits.warmup + limits.measure,
        max_requests: limits.max_requests,
        sent: AtomicU64::new(0),
    });

    let mut clients = Vec::with_capacity(limits.clients);
    for client in 0..limits.clients {
        let script = ClientScript::new(scenario, client, limits.clients, fixture);
        let connection = Connection::open(target).await?;
        let target = target.clone();
        let schedule = Arc::clone(&schedule);
        clients.push(tokio::spawn(run_client(
            target, connection, script, schedule,
        )));
    }

    tokio::time::sleep_until(schedule.measure_from.into()).await;
    let cpu_start = meter.read()?;
    let mut total = ClientTally::default();
    for client in clients {
        let tally = client.await.context("a client task panicked")?;
        merge(&mut total, tally);
    }
    let cpu = CpuUse::between(&cpu_start, &meter.read()?);

    total.latencies.sort_unstable();
    let elapsed = total
        .last_answer
        .map(|last| last.saturating_duration_since(schedule.measure_from))
        .unwrap_or_default();
    Ok(Measurement {
        scenario,
        successes: total.successes,
        errors: total.errors,
        error_kinds: total.error_kinds,
        latencies: total.latencies,
        elapsed,
        cpu,
    })
}

/// One client's loop: send, wait for the answer, check it, repeat until the
/// measurement ends or the request budget runs out. Only requests sent after
/// the warmup are counted.
async fn run_client(
    target: Target,
    connection: Connection,
    mut script: ClientScript,
    schedule: Arc<Schedule>,
) -> ClientTally {
    let mut tally = ClientTally::default();
    let mut connection = Some(connection);
    loop {
        let sent_at = Instant::now();
        if sent_at >= schedule.measure_until
            || schedule.sent.fetch_add(1, Ordering::Relaxed) >= schedule.max_requests
        {
            return tally;
        }
        let is_measured = sent_at >= schedule.measure_from;

        let outcome = match &mut connection {
            Some(open) => send_one(&target, open, &mut script).await,
            None => Err(Failure::Connection("reconnecting".to_owned())),
        };
        let answered_at = Instant::now();

        if let Err(Failure::Connection(_)) = &outcome {
            // Whatever broke the connection, the next request needs another.
            tokio::time::sleep(RECONNECT_PAUSE).await;
            connection = Connection::open(&target).await.ok();
        }
        if !is_measured {
            continue;
        }
        tally.latencies.push(answered_at - sent_at);
        tally.last_answer = Some(answered_at);
        match outcome {
            Ok(()) => tally.successes += 1,
            Err(Failure::Answer(kind) | Failure::Connection(kind)) => {
                tally.errors += 1;
                count_error(&mut tally.error_kinds, kind);
            }
        }
    }
}

/// Why a request failed.
enum Failure {
    /// The server answered, but not as it should have.
    Answer(String),
    /// No answer: the connection broke, or the request timed out.
    Connection(String),
}

async fn send_one(
    target: &Target,
    connection: &mut Connection,
    script: &mut ClientScript,
) -> Result<(), Failure> {
    let request = script
        .next_request(target)
        .map_err(|error| Failure::Answer(format!("{error:#}")))?;
    match tokio::time::timeout(REQUEST_TIMEOUT, connection.send(request)).await {
        Err(_) => Err(Failure::Connection(format!(
            "no answer within {REQUEST_TIMEOUT:?}"
        ))),
        Ok(Err(error)) => Err(Failure::Connection(format!("{error:#}"))),
        Ok(Ok(reply)) => script.check(&reply).map_err(Failure::Answer),
    }
}

fn count_error(kinds: &mut BTreeMap<String, u64>, kind: String) {
    if kinds.len() < MAX_ERROR_KINDS || kinds.contains_key(&kind) {
        *kinds.entry(kind).or_default() += 1;
    } else {
        *kinds.entry("(other errors)".to_owned()).or_default() += 1;
    }
}

fn merge(total: &mut ClientTally, client: ClientTally) {
    total.successes += client.successes;
    total.errors += client.errors;
    for (kind, count) in client.error_kinds {
        *total.error_kinds.entry(kind).or_default() += count;
    }
    total.latencies.extend(client.latencies);
    total.last_answer = total.last_answer.max(client.last_answer);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(latencies_ms: impl Iterator<Item = u64>) -> Measurement {
        Measurement {
            scenario: Scenario::Get,
            successes: 0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            latencies: latencies_ms.map(Duration::from_millis).collect(),
            elapsed: Duration::from_secs(1),
            cpu: CpuUse {
                server: 0.0,
                driver: 0.0,
                database: None,
                other: 0.0,
            },
        }
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let measured = measurement(1..=200);

        assert_eq!(measured.percentile(0.50), Duration::from_millis(100));
        assert_eq!(measured.percentile(0.99), Duration::from_millis(198));
        assert_eq!(measured.max_latency(), Duration::from_millis(200));
    }

    #[test]
    fn percentiles_of_nothing_are_zero() {
        let measured = measurement(std::iter::empty());

        assert_eq!(measured.percentile(0.99), Duration::ZERO);
    }
}
