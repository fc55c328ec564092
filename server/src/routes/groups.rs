//! Groups: named lists of members in a bucket, whose URIs
//! (`/buckets/b/groups/g`) are principals in permissions.

use axum::Router;
use axum::routing::get;
use serde::Deserialize;

use super::objects::Location;
use super::objects::handlers::{self, ObjectPath, SetPath};
use crate::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/buckets/{bucket_id}/groups",
            get(handlers::list::<GroupsPath>)
                .post(handlers::create::<GroupsPath>)
                .delete(handlers::delete_all::<GroupsPath>),
        )
        .route(
            "/v1/buckets/{bucket_id}/groups/{group_id}",
            get(handlers::get::<GroupPath>)
                .put(handlers::put::<GroupPath>)
                .patch(handlers::patch::<GroupPath>)
                .delete(handlers::delete::<GroupPath>),
        )
}

/// `/v1/buckets/{bucket_id}/groups`.
#[derive(Deserialize)]
struct GroupsPath {
    bucket_id: String,
}

impl SetPath for GroupsPath {
    fn location(self) -> Location {
        Location::groups(self.bucket_id)
    }
}

/// `/v1/buckets/{bucket_id}/groups/{group_id}`.
#[derive(Deserialize)]
struct GroupPath {
    bucket_id: String,
    group_id: String,
}

impl ObjectPath for GroupPath {
    fn locate(self) -> (Location, String) {
        (Location::groups(self.bucket_id), self.group_id)
    }
}
