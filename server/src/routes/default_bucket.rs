//! The `default` bucket: `/v1/buckets/default/...` is each signed-in user's
//! own bucket, created (with the collection named in the URL) on first use.
//! Its id is derived from the user id, so it is stable and private.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Extensions, Uri};
use axum::response::Response;
use axum::routing::any;
use serde_json::Map;
use tower::ServiceExt;

use super::objects::Location;
use crate::AppState;
use crate::error::ApiError;
use crate::permissions::{self, Permissions};
use crate::session::{BatchTransaction, Session};
use crate::storage::{StorageError, Timestamp, Transaction};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/buckets/default", any(forward))
        .route("/v1/buckets/default/{*rest}", any(forward))
}

/// Makes sure the caller's bucket (and the collection the URL names)
/// exists, then serves the request as if it named the bucket's real id.
async fn forward(
    State(state): State<AppState>,
    session: Session,
    request: Request,
) -> Result<Response, ApiError> {
    let Some(user_id) = &session.caller.user_id else {
        return Err(ApiError::unauthorized());
    };
    let bucket_id = state.auth.default_bucket_id(user_id);
    let rest = request
        .uri()
        .path()
        .strip_prefix("/v1/buckets/default")
        .unwrap_or_default()
        .to_owned();
    let collection_id = rest
        .strip_prefix("/collections/")
        .map(|tail| tail.split('/').next().unwrap_or_default().to_owned())
        .filter(|id| !id.is_empty());

    {
        let mut tx = session.begin_write(state.storage.as_ref()).await?;
        let owner = owner_permissions(user_id.as_str());
        ensure(&mut *tx, &Location::buckets(), &bucket_id, &owner).await?;
        if let Some(collection_id) = &collection_id {
            let collections = Location::collections(bucket_id.clone());
            ensure(&mut *tx, &collections, collection_id, &Permissions::new()).await?;
        }
        tx.commit().await?;
    }

    let query = request
        .uri()
        .query()
        .map(|query| format!("?{query}"))
        .unwrap_or_default();
    let path = format!("/v1/buckets/{bucket_id}{rest}{query}");
    let (mut parts, body) = request.into_parts();
    parts.uri = Uri::try_from(path).map_err(|_| ApiError::unknown_route())?;
    // Routing leaves its own extensions, which the second routing would
    // extend; only a batch's transaction carries over.
    let batch = parts.extensions.remove::<BatchTransaction>();
    parts.extensions = Extensions::new();
    if let Some(batch) = batch {
        parts.extensions.insert(batch);
    }
    let request = Request::from_parts(parts, body);
    let Ok(response) = super::router().with_state(state).oneshot(request).await;
    Ok(response)
}

/// Creates `id` at `location` with `permissions` unless it exists.
async fn ensure(
    tx: &mut dyn Transaction,
    location: &Location,
    id: &str,
    permissions: &Permissions,
) -> Result<(), StorageError> {
    let now = Timestamp::now();
    let scope = location.scope();
    tx.lock(&scope, now).await?;
    match tx.create(&scope, id, Map::new(), now).await {
        Ok(_) => {
            tx.set_permissions(&location.object_uri(id), permissions)
                .await
        }
        Err(StorageError::AlreadyExists(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

fn owner_permissions(user_id: &str) -> Permissions {
    let mut permissions = Permissions::new();
    permissions
        .entry(permissions::WRITE.to_owned())
        .or_default()
        .insert(user_id.to_owned());
    permissions
}
