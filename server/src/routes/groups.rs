//! Groups: named lists of members in a bucket, whose URIs
//! (`/buckets/b/groups/g`) are principals in permissions.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::objects::{self, ListQuery, Location, ObjectBody};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::session::Session;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/buckets/{bucket_id}/groups",
            get(list_groups).post(create_group).delete(delete_groups),
        )
        .route(
            "/v1/buckets/{bucket_id}/groups/{group_id}",
            get(get_group)
                .put(put_group)
                .patch(patch_group)
                .delete(delete_group),
        )
}

async fn list_groups(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(query.as_deref())?;
    objects::list_objects(
        &state,
        &session,
        &Location::groups(bucket_id),
        &query,
        &uri,
        &headers,
    )
    .await
}

async fn create_group(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::create_object(
        &state,
        &session,
        &Location::groups(bucket_id),
        &headers,
        body,
    )
    .await
}

async fn delete_groups(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_objects(&state, &session, &Location::groups(bucket_id), &headers).await
}

async fn get_group(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, group_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::get_object(
        &state,
        &session,
        &Location::groups(bucket_id),
        &group_id,
        &headers,
    )
    .await
}

async fn put_group(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, group_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::put_object(
        &state,
        &session,
        &Location::groups(bucket_id),
        &group_id,
        &headers,
        body,
    )
    .await
}

async fn patch_group(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, group_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    objects::patch_object(
        &state,
        &session,
        &Location::groups(bucket_id),
        &group_id,
        &headers,
        body,
    )
    .await
}

async fn delete_group(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, group_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_object(
        &state,
        &session,
        &Location::groups(bucket_id),
        &group_id,
        &headers,
    )
    .await
}
