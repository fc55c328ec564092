//! The server side of the server functions: the in-process calls to the
//! HTTP API as the signed-in user (`kinto`), and the readings of its JSON
//! into the pages' model (`convert`).

pub(in crate::api) mod convert;
pub mod kinto;
