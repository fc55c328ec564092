//! The app's pages, one module each.

pub mod home;
pub mod not_found;

pub use home::HomePage;
pub use not_found::NotFound;
