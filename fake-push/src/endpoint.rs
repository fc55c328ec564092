//! The push endpoints, `POST /push/{token}`: answer as the subscription's
//! behavior says, check the push, keep it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{Behavior, Shared, checks, lock};

pub(crate) async fn receive(
    State(shared): State<Arc<Shared>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let behavior = {
        let mut subscriptions = lock(&shared.subscriptions);
        let Some(minted) = subscriptions.get_mut(&token) else {
            return refuse(&shared, &token, 404, "no such subscription");
        };
        next_behavior(&mut minted.behavior)
    };
    match behavior {
        Behavior::Accept => {}
        Behavior::Slow(delay) => tokio::time::sleep(delay).await,
        Behavior::Status(status) | Behavior::FailTimes { status, .. } => {
            return refuse(&shared, &token, status, "told to fail");
        }
        Behavior::RateLimit {
            retry_after_secs, ..
        } => {
            let mut response = refuse(&shared, &token, 429, "told to rate limit");
            if let Some(seconds) = retry_after_secs {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            return response;
        }
    }

    match checks::check(&shared, &token, &headers, &body) {
        Ok(received) => {
            lock(&shared.received).push(received);
            shared.accepted.fetch_add(1, Ordering::SeqCst);
            shared.arrived.notify_waiters();
            if shared.logs_pushes {
                eprintln!("fake-push: {token}: 201");
            }
            StatusCode::CREATED.into_response()
        }
        Err(reason) => refuse(&shared, &token, 400, &reason),
    }
}

/// The answer for this push; a behavior that lasts a number of times counts
/// one down, and turns into `Accept` once spent.
fn next_behavior(behavior: &mut Behavior) -> Behavior {
    let now = behavior.clone();
    match behavior {
        Behavior::RateLimit { times, .. } | Behavior::FailTimes { times, .. } => {
            if *times == 0 {
                *behavior = Behavior::Accept;
                return Behavior::Accept;
            }
            *times -= 1;
        }
        Behavior::Accept | Behavior::Status(_) | Behavior::Slow(_) => {}
    }
    now
}

fn refuse(shared: &Shared, token: &str, status: u16, reason: &str) -> Response {
    lock(&shared.refused).push((token.to_owned(), status, reason.to_owned()));
    shared.arrived.notify_waiters();
    if shared.logs_pushes {
        eprintln!("fake-push: {token}: {status} {reason}");
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, reason.to_owned()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_behaviors_count_down_then_accept() {
        let mut behavior = Behavior::FailTimes {
            status: 500,
            times: 1,
        };

        assert!(matches!(
            next_behavior(&mut behavior),
            Behavior::FailTimes { .. }
        ));
        assert_eq!(next_behavior(&mut behavior), Behavior::Accept);
        assert_eq!(behavior, Behavior::Accept);
    }
}
