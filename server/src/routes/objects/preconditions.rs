//! `If-Match` and `If-None-Match`: a write (or a read) that only goes ahead
//! when the object is at the version the client names.

use axum::http::{HeaderMap, HeaderName, header};

use crate::error::ApiError;
use crate::storage::Timestamp;

/// What one precondition header names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// `*`: any version, that is, the object exists.
    Any,
    /// `"<timestamp>"`: that exact version.
    At(Timestamp),
}

/// The precondition headers of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Preconditions {
    pub(super) if_match: Option<Version>,
    pub(super) if_none_match: Option<Version>,
}

impl Preconditions {
    /// Reads both headers.
    ///
    /// # Errors
    ///
    /// A 400 naming the header when its value is neither `*` nor a quoted
    /// (or bare) integer.
    pub(super) fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        Ok(Self {
            if_match: version(headers, &header::IF_MATCH)?,
            if_none_match: version(headers, &header::IF_NONE_MATCH)?,
        })
    }

    /// Whether a write may go ahead on an object whose current version is
    /// `current` (`None` when it does not exist). `If-None-Match` with a
    /// timestamp says nothing about writes.
    pub(super) fn allow_write(&self, current: Option<Timestamp>) -> bool {
        let matches = match self.if_match {
            None => true,
            Some(Version::Any) => current.is_some(),
            Some(Version::At(expected)) => current == Some(expected),
        };
        let none_matches = match self.if_none_match {
            Some(Version::Any) => current.is_none(),
            None | Some(Version::At(_)) => true,
        };
        matches && none_matches
    }

    /// Whether a read of version `current` is answered with 304.
    pub(super) fn is_not_modified(&self, current: Timestamp) -> bool {
        self.if_none_match == Some(Version::At(current))
    }
}

fn version(headers: &HeaderMap, name: &HeaderName) -> Result<Option<Version>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let invalid = || ApiError::invalid("header", name.as_str(), "expected * or a quoted timestamp");
    let text = value.to_str().map_err(|_| invalid())?.trim();
    if text == "*" {
        return Ok(Some(Version::Any));
    }
    let digits = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let millis = digits.parse::<i64>().map_err(|_| invalid())?;
    Ok(Some(Version::At(Timestamp::from_millis(millis))))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn parse(name: HeaderName, value: &'static str) -> Result<Preconditions, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        Preconditions::from_headers(&headers)
    }

    fn at(millis: i64) -> Option<Timestamp> {
        Some(Timestamp::from_millis(millis))
    }

    #[test]
    fn if_match_needs_that_exact_version() {
        let preconditions = parse(header::IF_MATCH, "\"42\"").unwrap();

        assert!(preconditions.allow_write(at(42)));
        assert!(!preconditions.allow_write(at(43)));
        assert!(!preconditions.allow_write(None));
    }

    #[test]
    fn star_means_exists_or_does_not() {
        let must_exist = parse(header::IF_MATCH, "*").unwrap();
        let must_not = parse(header::IF_NONE_MATCH, "*").unwrap();

        assert!(must_exist.allow_write(at(1)) && !must_exist.allow_write(None));
        assert!(must_not.allow_write(None) && !must_not.allow_write(at(1)));
    }

    #[test]
    fn if_none_match_with_a_version_answers_reads_only() {
        let preconditions = parse(header::IF_NONE_MATCH, "\"7\"").unwrap();

        assert!(preconditions.allow_write(at(7)));
        assert!(preconditions.is_not_modified(Timestamp::from_millis(7)));
        assert!(!preconditions.is_not_modified(Timestamp::from_millis(8)));
    }

    #[test]
    fn garbage_is_a_400() {
        let error = parse(header::IF_MATCH, "abc").unwrap_err();

        assert_eq!(error.status(), 400);
    }
}
