//! The app's URLs, and the push channels they show. The server uses these
//! too, to point notifications at the page of what changed.

/// The start page: the sign-in form, or the signed-in user's board.
pub const HOME: &str = "/";

/// The page of a collection's notes.
pub fn collection_page(bucket: &str, collection: &str) -> String {
    format!("/collections/{bucket}/{collection}")
}

/// The push channel of a collection, as subscriptions follow it.
pub fn collection_channel(bucket: &str, collection: &str) -> String {
    format!("/buckets/{bucket}/collections/{collection}")
}

/// The page where a channel's changes show: its collection's page, or the
/// board for a bucket.
pub fn page_of_channel(channel: &str) -> String {
    let segments: Vec<&str> = channel.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["buckets", bucket, "collections", collection] => collection_page(bucket, collection),
        _ => HOME.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_channel_leads_to_its_page() {
        let channel = collection_channel("b1", "groceries");

        assert_eq!(page_of_channel(&channel), "/collections/b1/groceries");
    }

    #[test]
    fn a_bucket_channel_or_anything_else_leads_home() {
        assert_eq!(page_of_channel("/buckets/b1"), "/");
        assert_eq!(page_of_channel("/nonsense/a/b/c"), "/");
        assert_eq!(page_of_channel(""), "/");
    }
}
