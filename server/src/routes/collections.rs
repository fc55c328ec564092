//! Collections: named sets of records in a bucket.

use axum::Router;
use axum::routing::get;
use serde::Deserialize;

use super::objects::Location;
use super::objects::handlers::{self, ObjectPath, SetPath};
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/buckets/{bucket_id}/collections",
            get(handlers::list::<CollectionsPath>)
                .post(handlers::create::<CollectionsPath>)
                .delete(handlers::delete_all::<CollectionsPath>),
        )
        .route(
            "/v1/buckets/{bucket_id}/collections/{collection_id}",
            get(handlers::get::<CollectionPath>)
                .put(handlers::put::<CollectionPath>)
                .patch(handlers::patch::<CollectionPath>)
                .delete(handlers::delete::<CollectionPath>),
        )
}

/// `/v1/buckets/{bucket_id}/collections`.
#[derive(Deserialize)]
struct CollectionsPath {
    bucket_id: String,
}

impl SetPath for CollectionsPath {
    fn location(self) -> Location {
        Location::collections(self.bucket_id)
    }
}

/// `/v1/buckets/{bucket_id}/collections/{collection_id}`.
#[derive(Deserialize)]
struct CollectionPath {
    bucket_id: String,
    collection_id: String,
}

impl ObjectPath for CollectionPath {
    fn locate(self) -> (Location, String) {
        (Location::collections(self.bucket_id), self.collection_id)
    }
}
