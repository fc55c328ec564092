//! Sending one message: encrypting it for the subscription (`aes128gcm`,
//! through the `web-push` crate), posting it with our pooled HTTP client,
//! and reading the push service's answer as the protocol defines it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use web_push::{ContentEncoding, SubscriptionInfo, Urgency, WebPushMessageBuilder};

use super::PushError;
use super::endpoint::PublicResolver;
use super::vapid::Vapid;

/// How long a connection to a push service may take to open.
const CONNECT_TIMEOUT_SECS: u64 = 5;
/// Most of an error answer worth reading.
const MAX_ANSWER_BYTES: usize = 4_096;

/// A message ready to encrypt and send.
#[derive(Debug)]
pub struct Message<'a> {
    pub endpoint: &'a str,
    pub origin: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
    pub payload: &'a [u8],
    pub ttl_secs: u32,
    /// The collapse key: a newer message with the same topic replaces an
    /// undelivered one.
    pub topic: Option<&'a str>,
}

/// What the push service made of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 201 or 202: the service took it.
    Accepted,
    /// 404 or 410: the subscription no longer exists.
    Gone(u16),
    /// 429: the service wants us to slow down, for this long if it said.
    RateLimited(Option<Duration>),
    /// A 5xx, a timeout or a network failure: worth another try later.
    Transient {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good (400, 401, 403, 413 and other 4xx): trying again
    /// would fail the same way.
    Refused { status: u16, reason: String },
}

/// Posts messages to push services over one pool of connections.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
}

impl Sender {
    /// A sender whose every message (connection included) takes at most
    /// `timeout`, resolving names with `resolver`. Redirects are not
    /// followed: a push service never needs one, and following them would
    /// let an endpoint lead anywhere.
    ///
    /// # Errors
    ///
    /// `PushError::Client` when the HTTP client cannot be set up.
    pub fn new(timeout: Duration, resolver: PublicResolver) -> Result<Self, PushError> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS).min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("kinto-push/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| PushError::Client)?;
        Ok(Self { client })
    }

    /// Encrypts and posts `message`.
    ///
    /// # Errors
    ///
    /// `PushError::Encryption` when the subscription's keys are unusable or
    /// the payload is too large, `PushError::Signing` when no VAPID token
    /// can be made. Whatever the push service answers is an [`Answer`].
    pub async fn send(&self, vapid: &Vapid, message: &Message<'_>) -> Result<Answer, PushError> {
        let subscription = SubscriptionInfo::new(message.endpoint, message.p256dh, message.auth);
        let mut builder = WebPushMessageBuilder::new(&subscription);
        builder.set_payload(ContentEncoding::Aes128Gcm, message.payload);
        builder.set_ttl(message.ttl_secs);
        builder.set_urgency(Urgency::Normal);
        if let Some(topic) = message.topic {
            builder.set_topic(topic.to_owned());
        }
        builder.set_vapid_signature(vapid.token_for(message.origin)?);
        let built = builder.build().map_err(|_| PushError::Encryption)?;
        let Some(payload) = built.payload else {
            return Err(PushError::Encryption);
        };

        let mut request = self
            .client
            .post(message.endpoint)
            .header("TTL", message.ttl_secs)
            .header("Urgency", "normal")
            .header("Content-Encoding", payload.content_encoding.to_str())
            .header("Content-Type", "application/octet-stream");
        if let Some(topic) = message.topic {
            request = request.header("Topic", topic);
        }
        for (name, value) in payload.crypto_headers {
            request = request.header(name, value);
        }
        let response = match request.body(payload.content).send().await {
            Ok(response) => response,
            Err(error) => return Ok(network_failure(&error)),
        };
        let status = response.status().as_u16();
        let retry_after = retry_after(response.headers());
        let reason = read_reason(response).await;
        Ok(answer(status, retry_after, reason))
    }
}

/// Classifies a push service's status.
fn answer(status: u16, retry_after: Option<Duration>, reason: String) -> Answer {
    match status {
        200..=299 => Answer::Accepted,
        404 | 410 => Answer::Gone(status),
        429 => Answer::RateLimited(retry_after),
        408 | 500..=599 => Answer::Transient {
            status: Some(status),
            reason,
            retry_after,
        },
        _ => Answer::Refused { status, reason },
    }
}

fn network_failure(error: &reqwest::Error) -> Answer {
    let reason = if error.is_timeout() {
        "the push service did not answer in time"
    } else if error.is_connect() {
        "cannot connect to the push service"
    } else if error.is_redirect() {
        "the push service answered with a redirect"
    } else {
        "the request to the push service failed"
    };
    Answer::Transient {
        status: None,
        reason: reason.to_owned(),
        retry_after: None,
    }
}

/// `Retry-After` as a delay: seconds, or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The start of an answer's body, as text: push services explain refusals
/// there. Never more than `MAX_ANSWER_BYTES` are read.
async fn read_reason(mut response: reqwest::Response) -> String {
    let status = response.status();
    if status.is_success() {
        return String::new();
    }
    let mut body = Vec::new();
    while body.len() < MAX_ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_ANSWER_BYTES);
    let text = String::from_utf8_lossy(&body);
    let text = text.trim();
    let reason = status.canonical_reason().unwrap_or("error");
    if text.is_empty() {
        format!("{} {reason}", status.as_u16())
    } else {
        let text: String = text.chars().take(200).collect();
        format!("{} {reason}: {text}", status.as_u16())
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn statuses_map_to_what_the_protocol_asks_of_a_sender() {
        let reason = String::new;

        assert_eq!(answer(201, None, reason()), Answer::Accepted);
        assert_eq!(answer(410, None, reason()), Answer::Gone(410));
        assert_eq!(answer(404, None, reason()), Answer::Gone(404));
        assert_eq!(
            answer(429, Some(Duration::from_secs(3)), reason()),
            Answer::RateLimited(Some(Duration::from_secs(3)))
        );
        assert!(matches!(
            answer(503, None, reason()),
            Answer::Transient { .. }
        ));
        for refused in [400, 401, 403, 413] {
            assert!(matches!(
                answer(refused, None, reason()),
                Answer::Refused { .. }
            ));
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));

        let later = SystemTime::now() + Duration::from_secs(600);
        let date = httpdate::fmt_http_date(later);
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        let delay = retry_after(&headers).unwrap();
        assert!(delay > Duration::from_secs(590) && delay <= Duration::from_secs(600));

        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
