//! Collections: named sets of records in a bucket.

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
            "/v1/buckets/{bucket_id}/collections",
            get(list_collections)
                .post(create_collection)
                .delete(delete_collections),
        )
        .route(
            "/v1/buckets/{bucket_id}/collections/{collection_id}",
            get(get_collection)
                .put(put_collection)
                .patch(patch_collection)
                .delete(delete_collection),
        )
}

async fn list_collections(
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
        &Location::collections(bucket_id),
        &query,
        &uri,
        &headers,
    )
    .await
}

async fn create_collection(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::create_object(
        &state,
        &session,
        &Location::collections(bucket_id),
        &headers,
        body,
    )
    .await
}

async fn delete_collections(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_objects(
        &state,
        &session,
        &Location::collections(bucket_id),
        &headers,
    )
    .await
}

async fn get_collection(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::get_object(
        &state,
        &session,
        &Location::collections(bucket_id),
        &collection_id,
        &headers,
    )
    .await
}

async fn put_collection(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::put_object(
        &state,
        &session,
        &Location::collections(bucket_id),
        &collection_id,
        &headers,
        body,
    )
    .await
}

async fn patch_collection(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    objects::patch_object(
        &state,
        &session,
        &Location::collections(bucket_id),
        &collection_id,
        &headers,
        body,
    )
    .await
}

async fn delete_collection(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_object(
        &state,
        &session,
        &Location::collections(bucket_id),
        &collection_id,
        &headers,
    )
    .await
}
