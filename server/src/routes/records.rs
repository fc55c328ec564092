//! Records: the JSON objects of a collection.

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
            "/v1/buckets/{bucket_id}/collections/{collection_id}/records",
            get(list_records).post(create_record).delete(delete_records),
        )
        .route(
            "/v1/buckets/{bucket_id}/collections/{collection_id}/records/{record_id}",
            get(get_record)
                .put(put_record)
                .patch(patch_record)
                .delete(delete_record),
        )
}

async fn list_records(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let query = ListQuery::parse(query.as_deref())?;
    objects::list_objects(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &query,
        &uri,
        &headers,
    )
    .await
}

async fn create_record(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::create_object(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &headers,
        body,
    )
    .await
}

async fn delete_records(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_objects(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &headers,
    )
    .await
}

async fn get_record(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id, record_id)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::get_object(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &record_id,
        &headers,
    )
    .await
}

async fn put_record(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id, record_id)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    objects::put_object(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &record_id,
        &headers,
        body,
    )
    .await
}

async fn patch_record(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id, record_id)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    objects::patch_object(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &record_id,
        &headers,
        body,
    )
    .await
}

async fn delete_record(
    State(state): State<AppState>,
    session: Session,
    ApiPath((bucket_id, collection_id, record_id)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    objects::delete_object(
        &state,
        &session,
        &Location::records(bucket_id, collection_id),
        &record_id,
        &headers,
    )
    .await
}
