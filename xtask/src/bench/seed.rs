//! The data the scenarios run against, written before any measurement: the
//! bucket, its collections, the seeded records and one record per client.

use anyhow::{Context, bail};
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};

use super::api::{
    self, BATCH_REQUESTS, BatchReply, COLLECTIONS, ListTimestamps, PATCH_COLLECTION,
    SEEDED_RECORDS, SYNC_COLLECTION, SYNC_RECORDS,
};
use super::http::{Connection, Reply, Target};

/// Connections the seeding spreads its batches over.
const SEED_CONNECTIONS: usize = 4;

/// What the scenarios need to know about the seeded data.
pub(super) struct Fixture {
    /// A `_since` value that selects exactly the `SYNC_RECORDS` newest
    /// records of the sync collection: the timestamp of the next older one.
    pub(super) since: u64,
    /// The `ETag` of each client's record in the patch collection.
    pub(super) patch_etags: Vec<HeaderValue>,
}

/// Creates the bucket and its collections, seeds the sync collection and
/// creates one record per client to patch.
pub(super) async fn prepare(target: &Target, clients: usize) -> anyhow::Result<Fixture> {
    let mut connection = Connection::open(target).await?;
    let empty = || Some(b"{}".to_vec());
    send(
        &mut connection,
        target,
        Method::PUT,
        &api::bucket_path(),
        empty(),
    )
    .await?;
    for collection in COLLECTIONS {
        let path = api::collection_path(collection);
        send(&mut connection, target, Method::PUT, &path, empty()).await?;
    }

    seed_sync_collection(target).await?;
    let since = find_since(&mut connection, target).await?;

    let mut patch_etags = Vec::with_capacity(clients);
    for client in 0..clients {
        let path = api::record_path(PATCH_COLLECTION, &api::patched_record_id(client));
        let body = Some(api::envelope(api::record_data(0)));
        let reply = send(&mut connection, target, Method::PUT, &path, body).await?;
        patch_etags.push(
            reply
                .etag
                .with_context(|| format!("no ETag from PUT {path}"))?,
        );
    }
    Ok(Fixture { since, patch_etags })
}

/// Writes the `SEEDED_RECORDS` records in batches, over a few connections.
async fn seed_sync_collection(target: &Target) -> anyhow::Result<()> {
    let batches = SEEDED_RECORDS.div_ceil(BATCH_REQUESTS);
    let mut tasks = Vec::with_capacity(SEED_CONNECTIONS);
    for first_batch in 0..SEED_CONNECTIONS {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(&target).await?;
            for batch in (first_batch..batches).step_by(SEED_CONNECTIONS) {
                let start = batch * BATCH_REQUESTS;
                let end = (start + BATCH_REQUESTS).min(SEEDED_RECORDS);
                let body = Some(api::batch_of_seeds(start..end));
                let reply = send(&mut connection, &target, Method::POST, "/v1/batch", body).await?;
                let parsed: BatchReply =
                    serde_json::from_slice(&reply.body).context("reading a seeding batch")?;
                parsed
                    .expect_all(end - start, StatusCode::CREATED.as_u16())
                    .map_err(anyhow::Error::msg)?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("a seeding task panicked")??;
    }
    Ok(())
}

/// The timestamp of the record just older than the `SYNC_RECORDS` newest.
async fn find_since(connection: &mut Connection, target: &Target) -> anyhow::Result<u64> {
    let path = format!(
        "{}?_sort=-last_modified&_limit={}",
        api::records_path(SYNC_COLLECTION),
        SYNC_RECORDS + 1
    );
    let reply = send(connection, target, Method::GET, &path, None).await?;
    let listing: ListTimestamps =
        serde_json::from_slice(&reply.body).context("reading the newest records")?;
    let Some(oldest) = listing.data.get(SYNC_RECORDS) else {
        bail!("GET {path} returned {} records", listing.data.len());
    };
    Ok(oldest.last_modified)
}

/// Sends one request and fails unless it succeeds.
async fn send(
    connection: &mut Connection,
    target: &Target,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> anyhow::Result<Reply> {
    let request = target.request(method.clone(), path, body)?;
    let reply = connection
        .send(request)
        .await
        .with_context(|| format!("{method} {path}"))?;
    if !reply.status.is_success() {
        bail!(
            "{method} {path} answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    Ok(reply)
}
