//! Records: the JSON objects of a collection.

use axum::Router;
use axum::routing::get;
use serde::Deserialize;

use super::objects::Location;
use super::objects::handlers::{self, ObjectPath, SetPath};
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/buckets/{bucket_id}/collections/{collection_id}/records",
            get(handlers::list::<RecordsPath>)
                .post(handlers::create::<RecordsPath>)
                .delete(handlers::delete_all::<RecordsPath>),
        )
        .route(
            "/v1/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}",
            get(handlers::get::<RecordPath>)
                .put(handlers::put::<RecordPath>)
                .patch(handlers::patch::<RecordPath>)
                .delete(handlers::delete::<RecordPath>),
        )
}

/// `/v1/buckets/{bucket_id}/collections/{collection_id}/records`.
#[derive(Deserialize)]
struct RecordsPath {
    bucket_id: String,
    collection_id: String,
}

impl SetPath for RecordsPath {
    fn location(self) -> Location {
        Location::records(self.bucket_id, self.collection_id)
    }
}

/// `/v1/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}`.
#[derive(Deserialize)]
struct RecordPath {
    bucket_id: String,
    collection_id: String,
    record_id: String,
}

impl ObjectPath for RecordPath {
    fn locate(self) -> (Location, String) {
        (
            Location::records(self.bucket_id, self.collection_id),
            self.record_id,
        )
    }
}
