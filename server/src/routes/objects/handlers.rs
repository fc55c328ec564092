//! The HTTP handlers every resource shares. Each resource module routes its
//! URLs here, with the type that reads its path parameters: a [`SetPath`]
//! for the URL of a set, an [`ObjectPath`] for the URL of one object.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Location, ObjectBody, listing::ListQuery, plural, single};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::session::Session;

/// The path parameters of a set's URL, such as `/buckets/{bucket_id}/collections`.
pub(crate) trait SetPath: DeserializeOwned + Send + 'static {
    fn location(self) -> Location;
}

/// The path parameters of an object's URL: where it lives and its id.
pub(crate) trait ObjectPath: DeserializeOwned + Send + 'static {
    fn locate(self) -> (Location, String);
}

/// `GET` (and `HEAD`) on a set: a listing.
pub(crate) async fn list<P: SetPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let listing = ListQuery::parse(query.as_deref())?;
    let location = path.location();
    plural::list_objects(&state, &session, &location, &listing, &uri, &headers).await
}

/// `POST` on a set: a new object.
pub(crate) async fn create<P: SetPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    plural::create_object(&state, &session, &path.location(), &headers, body).await
}

/// `DELETE` on a set: every object the caller may delete, or those that
/// match the filters.
pub(crate) async fn delete_all<P: SetPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let listing = ListQuery::parse(query.as_deref())?;
    let location = path.location();
    plural::delete_objects(&state, &session, &location, listing, &uri, &headers).await
}

pub(crate) async fn get<P: ObjectPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (location, id) = path.locate();
    single::get_object(&state, &session, &location, &id, &headers).await
}

pub(crate) async fn put<P: ObjectPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ObjectBody>,
) -> Result<Response, ApiError> {
    let (location, id) = path.locate();
    single::put_object(&state, &session, &location, &id, &headers, body).await
}

pub(crate) async fn patch<P: ObjectPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let (location, id) = path.locate();
    single::patch_object(&state, &session, &location, &id, &headers, body).await
}

pub(crate) async fn delete<P: ObjectPath>(
    State(state): State<AppState>,
    session: Session,
    ApiPath(path): ApiPath<P>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (location, id) = path.locate();
    single::delete_object(&state, &session, &location, &id, &headers).await
}
