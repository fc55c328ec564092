//! Buckets: the top-level containers, `/v1/buckets` and `/v1/buckets/{id}`.

use axum::Router;
use axum::routing::get;
use serde::Deserialize;

use super::objects::Location;
use super::objects::handlers::{self, ObjectPath, SetPath};
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/buckets",
            get(handlers::list::<BucketsPath>)
                .post(handlers::create::<BucketsPath>)
                .delete(handlers::delete_all::<BucketsPath>),
        )
        .route(
            "/v1/buckets/{bucket_id}",
            get(handlers::get::<BucketPath>)
                .put(handlers::put::<BucketPath>)
                .patch(handlers::patch::<BucketPath>)
                .delete(handlers::delete::<BucketPath>),
        )
}

/// `/v1/buckets`: no parameters.
#[derive(Deserialize)]
struct BucketsPath {}

impl SetPath for BucketsPath {
    fn location(self) -> Location {
        Location::buckets()
    }
}

/// `/v1/buckets/{bucket_id}`.
#[derive(Deserialize)]
struct BucketPath {
    bucket_id: String,
}

impl ObjectPath for BucketPath {
    fn locate(self) -> (Location, String) {
        (Location::buckets(), self.bucket_id)
    }
}
