//! The scenarios: what each client sends, and what it checks in every answer.

use clap::ValueEnum;
use hyper::header::{HeaderValue, IF_MATCH};
use hyper::{Method, Request};

use super::api::{
    self, BATCH_COLLECTION, BATCH_REQUESTS, BatchReply, CREATE_COLLECTION, ListCount,
    PATCH_COLLECTION, SEEDED_RECORDS, SYNC_COLLECTION, SYNC_RECORDS,
};
use super::http::{Reply, Target};
use super::seed::Fixture;

/// One kind of request, sent over and over by every client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// `GET /v1/__lbheartbeat__`: no database, so the ceiling of the HTTP
    /// stack of the server and of the load generator together.
    Heartbeat,
    /// `GET /v1/`, the hello, signed in.
    Hello,
    /// `POST …/records`: create one record.
    Create,
    /// `GET …/records/<id>`: one of the seeded records.
    Get,
    /// `GET …/records?_since=…`: the 50 newest of the 10,000 seeded records.
    Since,
    /// `PATCH …/records/<id>` with `If-Match`: each client its own record.
    Patch,
    /// `POST /v1/batch` with 25 creates.
    Batch,
}

impl Scenario {
    /// Every scenario, in the order they run: reads first, so that they all
    /// see the same data, then the writes.
    pub(super) const ALL: [Self; 7] = [
        Self::Heartbeat,
        Self::Hello,
        Self::Get,
        Self::Since,
        Self::Create,
        Self::Patch,
        Self::Batch,
    ];

    /// The name in the results table.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Heartbeat => "__lbheartbeat__",
            Self::Hello => "GET /v1/ (hello)",
            Self::Create => "create a record",
            Self::Get => "get a record",
            Self::Since => "_since: 50 of 10,000",
            Self::Patch => "PATCH with If-Match",
            Self::Batch => "batch of 25 creates",
        }
    }

    /// Records one request writes, for the scenarios that write.
    pub(super) fn records_per_request(self) -> Option<u64> {
        match self {
            Self::Create | Self::Patch => Some(1),
            Self::Batch => Some(BATCH_REQUESTS as u64),
            Self::Heartbeat | Self::Hello | Self::Get | Self::Since => None,
        }
    }
}

/// One client's part in a scenario: the requests it sends, in order, and the
/// state it carries from one answer to the next request.
pub(super) struct ClientScript {
    scenario: Scenario,
    client: usize,
    clients: usize,
    /// Requests built so far; numbers the records this client writes.
    sent: u64,
    /// The path of every request, except in the record scenario.
    path: String,
    /// The current `ETag` of this client's record, in the patch scenario.
    etag: Option<HeaderValue>,
}

impl ClientScript {
    pub(super) fn new(
        scenario: Scenario,
        client: usize,
        clients: usize,
        fixture: &Fixture,
    ) -> Self {
        let path = match scenario {
            Scenario::Heartbeat => "/v1/__lbheartbeat__".to_owned(),
            Scenario::Hello => "/v1/".to_owned(),
            Scenario::Create => api::records_path(CREATE_COLLECTION),
            Scenario::Get => String::new(),
            Scenario::Since => format!(
                "{}?_since={}",
                api::records_path(SYNC_COLLECTION),
                fixture.since
            ),
            Scenario::Patch => api::record_path(PATCH_COLLECTION, &api::patched_record_id(client)),
            Scenario::Batch => "/v1/batch".to_owned(),
        };
        let etag = (scenario == Scenario::Patch)
            .then(|| fixture.patch_etags.get(client).cloned())
            .flatten();
        Self {
            scenario,
            client,
            clients,
            sent: 0,
            path,
            etag,
        }
    }

    /// The next request to send.
    pub(super) fn next_request(
        &mut self,
        target: &Target,
    ) -> anyhow::Result<Request<http_body_util::Full<bytes::Bytes>>> {
        let number = self.sent;
        self.sent += 1;
        match self.scenario {
            Scenario::Heartbeat | Scenario::Hello | Scenario::Since => {
                target.request(Method::GET, &self.path, None)
            }
            Scenario::Get => {
                // Clients take turns through the seeded records, so reads
                // spread over the whole collection.
                let index =
                    (self.client as u64 + number * self.clients as u64) % SEEDED_RECORDS as u64;
                let record_id = api::seeded_record_id(index as usize);
                let path = api::record_path(SYNC_COLLECTION, &record_id);
                target.request(Method::GET, &path, None)
            }
            Scenario::Create => {
                let body = api::envelope(api::record_data(number));
                target.request(Method::POST, &self.path, Some(body))
            }
            Scenario::Patch => {
                let body = api::envelope(serde_json::json!({ "number": number }));
                let mut request = target.request(Method::PATCH, &self.path, Some(body))?;
                if let Some(etag) = &self.etag {
                    request.headers_mut().insert(IF_MATCH, etag.clone());
                }
                Ok(request)
            }
            Scenario::Batch => {
                let first = number * BATCH_REQUESTS as u64;
                let numbers = first..first + BATCH_REQUESTS as u64;
                let body = api::batch_of_creates(BATCH_COLLECTION, numbers);
                target.request(Method::POST, &self.path, Some(body))
            }
        }
    }

    /// Checks the answer to the last request; an error says what was wrong.
    /// Any status outside 2xx is an error.
    pub(super) fn check(&mut self, reply: &Reply) -> Result<(), String> {
        if !reply.status.is_success() {
            return Err(format!("status {}", reply.status.as_u16()));
        }
        match self.scenario {
            Scenario::Heartbeat | Scenario::Hello | Scenario::Get | Scenario::Create => Ok(()),
            Scenario::Since => {
                let listing: ListCount = serde_json::from_slice(&reply.body)
                    .map_err(|error| format!("_since: unreadable listing: {error}"))?;
                if listing.data.len() != SYNC_RECORDS {
                    return Err(format!(
                        "_since: {} records instead of {SYNC_RECORDS}",
                        listing.data.len()
                    ));
                }
                Ok(())
            }
            Scenario::Patch => {
                // The next PATCH must name the version this one wrote.
                let Some(etag) = &reply.etag else {
                    return Err("PATCH: no ETag in the answer".to_owned());
                };
                self.etag = Some(etag.clone());
                Ok(())
            }
            Scenario::Batch => {
                let batch: BatchReply = serde_json::from_slice(&reply.body)
                    .map_err(|error| format!("batch: unreadable answer: {error}"))?;
                batch.expect_all(BATCH_REQUESTS, 201)
            }
        }
    }
}
