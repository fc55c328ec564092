//! The app's pages, one module each.

pub mod collection;
pub mod home;
pub mod not_found;

pub use collection::CollectionPage;
pub use home::HomePage;
pub use not_found::NotFound;
