//! The service worker as the page sees it: its status, and in the browser its
//! registration, the page's message channel to it and the changes it relays.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
mod browser;

/// Where the page stands with its service worker.
// Only the browser build moves past `Waiting`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkerStatus {
    /// Rendered on the server: nothing is known before the page runs.
    Waiting,
    /// The browser has no service workers (or the page is not secure).
    Unsupported,
    /// Registered, not yet active.
    Registering,
    /// Active; the channel to it is being opened.
    Active,
    /// Active, and answered over a `MessageChannel`.
    Connected { version: String },
    /// Registration or the channel failed.
    Failed(String),
}

impl WorkerStatus {
    /// A short machine-readable name, exposed as `data-state`.
    pub(crate) fn state(&self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Unsupported => "unsupported",
            Self::Registering => "registering",
            Self::Active => "active",
            Self::Connected { .. } => "connected",
            Self::Failed(_) => "failed",
        }
    }
}

/// The worker's status as a signal. In the browser this registers the worker
/// and opens the channel; on the server it stays `Waiting`.
pub(crate) fn use_worker_status() -> ReadSignal<WorkerStatus> {
    let (status, set_status) = signal(WorkerStatus::Waiting);
    #[cfg(feature = "hydrate")]
    {
        let live = crate::live::use_live_changes();
        Effect::new(move || browser::connect(set_status, live));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_status;
    status
}

impl WorkerStatus {
    /// A sentence for the status line.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Waiting => "Service worker: starts once the page has loaded".to_owned(),
            Self::Unsupported => "Service worker: not supported by this browser".to_owned(),
            Self::Registering => "Service worker: installing…".to_owned(),
            Self::Active => "Service worker: active, opening a channel…".to_owned(),
            Self::Connected { version } => {
                format!("Service worker: active and connected (worker {version})")
            }
            Self::Failed(reason) => format!("Service worker: failed ({reason})"),
        }
    }
}
