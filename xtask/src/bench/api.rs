//! The part of the Kinto API the benchmark uses: its URLs, the request bodies
//! it sends and the parts of the responses it checks.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// The bucket the setup creates; every collection below lives in it.
pub(super) const BUCKET: &str = "bench";
/// Seeded with `SEEDED_RECORDS` records, read by the record and sync
/// scenarios and never written after the setup.
pub(super) const SYNC_COLLECTION: &str = "sync";
/// Where single creates go.
pub(super) const CREATE_COLLECTION: &str = "created";
/// Where batched creates go.
pub(super) const BATCH_COLLECTION: &str = "batched";
/// One record per client, patched by that client only.
pub(super) const PATCH_COLLECTION: &str = "patched";
/// Every collection the setup creates.
pub(super) const COLLECTIONS: [&str; 4] = [
    SYNC_COLLECTION,
    CREATE_COLLECTION,
    BATCH_COLLECTION,
    PATCH_COLLECTION,
];

/// Records in the sync collection.
pub(super) const SEEDED_RECORDS: usize = 10_000;
/// Records a `_since` sync must return: the newest ones.
pub(super) const SYNC_RECORDS: usize = 50;
/// Sub-requests in one batch, the server's maximum.
pub(super) const BATCH_REQUESTS: usize = 25;

pub(super) fn bucket_path() -> String {
    format!("/v1/buckets/{BUCKET}")
}

pub(super) fn collection_path(collection: &str) -> String {
    format!("/v1/buckets/{BUCKET}/collections/{collection}")
}

pub(super) fn records_path(collection: &str) -> String {
    format!("/v1/buckets/{BUCKET}/collections/{collection}/records")
}

pub(super) fn record_path(collection: &str, record_id: &str) -> String {
    format!("/v1/buckets/{BUCKET}/collections/{collection}/records/{record_id}")
}

/// The id of the seeded record number `index`.
pub(super) fn seeded_record_id(index: usize) -> String {
    format!("seed-{index:05}")
}

/// The id of the record that client number `client` patches.
pub(super) fn patched_record_id(client: usize) -> String {
    format!("client-{client:03}")
}

/// A small record, like a to-do list entry, numbered `number`.
pub(super) fn record_data(number: u64) -> Value {
    json!({
        "title": format!("record {number}"),
        "done": false,
        "tags": ["bench", "kinto"],
        "number": number,
    })
}

/// `{"data": …}` for `data`.
pub(super) fn envelope(data: Value) -> Vec<u8> {
    json!({ "data": data }).to_string().into_bytes()
}

/// A `POST /v1/batch` body creating one record in `collection` per number.
pub(super) fn batch_of_creates(collection: &str, numbers: impl Iterator<Item = u64>) -> Vec<u8> {
    let path = records_path(collection);
    let requests: Vec<Value> = numbers
        .map(|number| json!({ "body": { "data": record_data(number) } }))
        .collect();
    let defaults = json!({ "method": "POST", "path": path.trim_start_matches("/v1") });
    json!({ "defaults": defaults, "requests": requests })
        .to_string()
        .into_bytes()
}

/// A `POST /v1/batch` body writing the seeded records `indexes` with `PUT`.
pub(super) fn batch_of_seeds(indexes: impl Iterator<Item = usize>) -> Vec<u8> {
    let requests: Vec<Value> = indexes
        .map(|index| {
            let path = record_path(SYNC_COLLECTION, &seeded_record_id(index));
            json!({
                "path": path.trim_start_matches("/v1"),
                "body": { "data": record_data(index as u64) },
            })
        })
        .collect();
    json!({ "defaults": { "method": "PUT" }, "requests": requests })
        .to_string()
        .into_bytes()
}

/// The answer to `POST /v1/batch`, down to each sub-response's status.
#[derive(Deserialize)]
pub(super) struct BatchReply {
    responses: Vec<SubReply>,
}

#[derive(Deserialize)]
struct SubReply {
    status: u16,
}

impl BatchReply {
    /// Fails unless there are `count` sub-responses, all with `status`.
    pub(super) fn expect_all(&self, count: usize, status: u16) -> Result<(), String> {
        if self.responses.len() != count {
            return Err(format!(
                "batch: {} responses instead of {count}",
                self.responses.len()
            ));
        }
        match self.responses.iter().find(|sub| sub.status != status) {
            Some(sub) => Err(format!("batch: a sub-request answered {}", sub.status)),
            None => Ok(()),
        }
    }
}

/// A listing, counted without looking inside the records.
#[derive(Deserialize)]
pub(super) struct ListCount {
    pub(super) data: Vec<IgnoredAny>,
}

/// A listing with each record's timestamp.
#[derive(Deserialize)]
pub(super) struct ListTimestamps {
    pub(super) data: Vec<ListedRecord>,
}

#[derive(Deserialize)]
pub(super) struct ListedRecord {
    pub(super) last_modified: u64,
}
