//! Buckets: the top-level containers, `/v1/buckets` and `/v1/buckets/{id}`.

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
            "/v1/buckets",
            get(list_buckets).post(create_bucket).delete(delete_buckets),
        )
        .route(
            "/v1/buckets/{bucket_id}",
            get(get_bucket)
                .put(put_bucket)
                .patch(patch_bucket)
                .delete(delete_bucket),
        )
}

async fn list_buckets(
    State(state): State<AppState>,
    session: Session,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(query.as_deref())?;
    objects::list_objects(
        &state,
        &session,
        &Location::buckets(),
        &query,
        &uri,
        &headers,
    )
    .await
}

async fn create_bucket(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::create_object(&state, &session, &Location::buckets(), &headers, body).await
}

async fn delete_buckets(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_objects(&state, &session, &Location::buckets(), &headers).await
}

async fn get_bucket(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::get_object(&state, &session, &Location::buckets(), &bucket_id, &headers).await
}

async fn put_bucket(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::put_object(
        &state,
        &session,
        &Location::buckets(),
        &bucket_id,
        &headers,
        body,
    )
    .await
}

async fn patch_bucket(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    objects::patch_object(
        &state,
        &session,
        &Location::buckets(),
        &bucket_id,
        &headers,
        body,
    )
    .await
}

async fn delete_bucket(
    State(state): State<AppState>,
    session: Session,
    ApiPath(bucket_id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_object(&state, &session, &Location::buckets(), &bucket_id, &headers).await
}
