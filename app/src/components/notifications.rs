//! The notifications panel: turning push on for this browser, following
//! collections, and the user's devices with their delivery figures.
//!
//! At every load the page checks this browser's subscription against the
//! server: when it is missing, made with another VAPID key or unknown to the
//! server, the page subscribes again and sends the new one with `replaces`,
//! so a subscription the push service dropped heals itself.

use leptos::prelude::*;

use crate::api::{follow, list_devices, remove_device};
use crate::live::{Relayed, use_live_changes};
use crate::model::{CollectionSummary, Device, Me};

/// Where this browser stands with push.
// Only the browser build moves past `Checking`.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
enum PushState {
    /// Not known before the page's code runs.
    Checking,
    Unsupported,
    /// The server has no VAPID key, so it sends no pushes.
    ServerOff,
    Denied,
    /// Supported and allowed, but not turned on in this browser.
    Off,
    Working,
    /// Subscribed, and the server knows the subscription.
    On {
        endpoint: String,
    },
    Failed(String),
}

impl PushState {
    /// A short name, exposed as `data-push-state` for tests and styles.
    fn key(&self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Unsupported => "unsupported",
            Self::ServerOff => "server-off",
            Self::Denied => "denied",
            Self::Off => "off",
            Self::Working => "working",
            Self::On { .. } => "on",
            Self::Failed(_) => "failed",
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Checking => "Checking whether this browser can get notifications…".to_owned(),
            Self::Unsupported => "This browser cannot get push notifications \
                (or the page is not served over HTTPS)."
                .to_owned(),
            Self::ServerOff => "This server sends no push notifications.".to_owned(),
            Self::Denied => "Notifications are blocked for this site. Allow them in the \
                browser's site settings, then reload."
                .to_owned(),
            Self::Off => "Get a notification when a collection you follow changes, \
                even with the page closed."
                .to_owned(),
            Self::Working => "Setting up notifications…".to_owned(),
            Self::On { .. } => "Notifications are on for this browser.".to_owned(),
            Self::Failed(reason) => format!("Notifications could not be set up: {reason}"),
        }
    }

    fn endpoint(&self) -> Option<&str> {
        match self {
            Self::On { endpoint } => Some(endpoint),
            _ => None,
        }
    }
}

/// The panel. `collections` are those the user can follow from here.
#[component]
pub fn NotificationsPanel(me: Me, collections: Vec<CollectionSummary>) -> impl IntoView {
    let state = RwSignal::new(PushState::Checking);
    let refresh = RwSignal::new(0_u32);
    let live = use_live_changes();
    let devices = Resource::new(
        move || {
            let renewed = matches!(live.latest(), Some(Relayed::SubscriptionChanged));
            (refresh.get(), renewed)
        },
        |_| list_devices(),
    );

    #[cfg(feature = "hydrate")]
    {
        let key = me.vapid_key.clone();
        Effect::new(move || {
            let key = key.clone();
            leptos::task::spawn_local(async move {
                let next = browser::check_on_load(key.as_deref()).await;
                state.set(next);
                refresh.update(|n| *n += 1);
            });
        });
    }
    let enable = {
        let key = me.vapid_key.clone();
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let key = key.clone();
                state.set(PushState::Working);
                leptos::task::spawn_local(async move {
                    state.set(browser::enable(key.as_deref()).await);
                    refresh.update(|n| *n += 1);
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&key, state);
        }
    };
    let disable = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let endpoint = state.get_untracked().endpoint().map(str::to_owned);
            let device = devices
                .get_untracked()
                .and_then(Result::ok)
                .and_then(|devices| this_device(&devices, endpoint.as_deref()));
            state.set(PushState::Working);
            leptos::task::spawn_local(async move {
                state.set(browser::disable(device.map(|device| device.id)).await);
                refresh.update(|n| *n += 1);
            });
        }
    };
    let _ = &me;

    view! {
        <section class="card" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading">"Notifications"</h2>
            <p class="push-state" data-push-state=move || state.get().key()>
                {move || state.get().describe()}
            </p>
            <Show when=move || matches!(state.get(), PushState::Off | PushState::Failed(_))>
                <button type="button" class="button primary" on:click=enable.clone()>
                    "Enable notifications"
                </button>
            </Show>
            <Show when=move || state.get().endpoint().is_some()>
                <button type="button" class="button quiet" on:click=disable>
                    "Turn off in this browser"
                </button>
            </Show>
            <Transition fallback=|| ()>
                {
                    let collections = collections.clone();
                    move || {
                        let collections = collections.clone();
                        Suspend::new(async move {
                            let devices = devices.await.unwrap_or_default();
                            view! {
                                <Following collections devices=devices.clone() state refresh />
                                <DeviceList devices state refresh />
                            }
                        })
                    }
                }
            </Transition>
            <button
                type="button"
                class="button quiet"
                aria-label="Refresh my devices"
                on:click=move |_| refresh.update(|n| *n += 1)
            >
                "Refresh"
            </button>
        </section>
    }
}

/// The device of `devices` whose endpoint is this browser's.
fn this_device(devices: &[Device], endpoint: Option<&str>) -> Option<Device> {
    let endpoint = endpoint?;
    devices
        .iter()
        .find(|device| device.endpoint == endpoint)
        .cloned()
}

/// A follow toggle per collection, for this browser's subscription.
#[component]
fn Following(
    collections: Vec<CollectionSummary>,
    devices: Vec<Device>,
    state: RwSignal<PushState>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let device = Memo::new(move |_| this_device(&devices, state.get().endpoint()));
    let toggles = collections
        .into_iter()
        .map(|collection| {
            let channel = collection.channel();
            let followed = {
                let channel = channel.clone();
                move || {
                    device
                        .get()
                        .is_some_and(|device| device.channels.contains(&channel))
                }
            };
            let toggle = move |event: leptos::ev::Event| {
                let Some(device) = device.get_untracked() else {
                    return;
                };
                let wanted = event_target_checked(&event);
                let channel = channel.clone();
                leptos::task::spawn_local(async move {
                    match follow(device.id, channel, wanted).await {
                        Ok(_) => error.set(None),
                        Err(failure) => error.set(Some(failure.to_string())),
                    }
                    refresh.update(|n| *n += 1);
                });
            };
            let id = format!("follow-{}-{}", collection.bucket, collection.id);
            view! {
                <li>
                    <input
                        type="checkbox"
                        id=id.clone()
                        prop:checked=followed
                        disabled=move || device.get().is_none()
                        on:change=toggle
                    />
                    <label for=id>"Follow " {collection.title}</label>
                </li>
            }
        })
        .collect_view();

    view! {
        <Show when=move || device.get().is_some()>
            <h3>"Follow"</h3>
        </Show>
        <ul class="toggles" hidden=move || device.get().is_none()>
            {toggles}
        </ul>
        <p class="field-error" role="alert" hidden=move || error.get().is_none()>
            {move || error.get().unwrap_or_default()}
        </p>
    }
}

/// The user's subscriptions, each removable.
#[component]
fn DeviceList(
    devices: Vec<Device>,
    state: RwSignal<PushState>,
    refresh: RwSignal<u32>,
) -> impl IntoView {
    if devices.is_empty() {
        return view! {
            <h3>"My devices"</h3>
            <p class="empty" data-testid="no-devices">"No device gets notifications yet."</p>
        }
        .into_any();
    }
    let rows = devices
        .into_iter()
        .map(|device| {
            let endpoint = device.endpoint.clone();
            let is_this = {
                let endpoint = endpoint.clone();
                move || state.get().endpoint() == Some(endpoint.as_str())
            };
            let is_this_row = is_this.clone();
            let id = device.id.clone();
            let remove = move |_| {
                let id = id.clone();
                let was_this = is_this_row();
                leptos::task::spawn_local(async move {
                    if remove_device(id).await.is_ok() && was_this {
                        state.set(PushState::Off);
                    }
                    refresh.update(|n| *n += 1);
                });
            };
            let figures = format!(
                "{} sent, {} failed, following {}",
                device.sent,
                device.failed,
                device.channels.len()
            );
            view! {
                <li class="device" data-endpoint=endpoint>
                    <div>
                        <strong>{device.host}</strong>
                        <Show when=is_this>
                            <span class="badge">"this browser"</span>
                        </Show>
                    </div>
                    <div class="figures">{figures}</div>
                    {device.last_error.map(|error| {
                        view! { <div class="figures">"Last refusal: " {error}</div> }
                    })}
                    <button type="button" class="button quiet" on:click=remove>
                        "Remove"
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <h3>"My devices"</h3>
        <ul class="devices">{rows}</ul>
    }
    .into_any()
}

/// The browser side of the panel's state changes.
#[cfg(feature = "hydrate")]
mod browser {
    use gloo_storage::{LocalStorage, Storage};
    use web_sys::{PushSubscription, ServiceWorkerRegistration};

    use super::PushState;
    use crate::api::{list_devices, register_device, remove_device};
    use crate::browser::describe;
    use crate::browser::push::{self, Permission};

    /// Whether the user turned notifications on in this browser.
    const WANTED_KEY: &str = "kinto-push.notifications";

    fn wanted() -> bool {
        LocalStorage::get::<bool>(WANTED_KEY).unwrap_or(false)
    }

    fn set_wanted(wanted: bool) {
        if LocalStorage::set(WANTED_KEY, wanted).is_err() {
            leptos::logging::warn!("could not remember the notification choice");
        }
    }

    /// What the panel shows at load, after renewing the subscription when
    /// the user turned push on here before.
    pub(super) async fn check_on_load(key: Option<&str>) -> PushState {
        let Some(key) = key else {
            return PushState::ServerOff;
        };
        match push::permission() {
            Permission::Unsupported => PushState::Unsupported,
            Permission::Denied => PushState::Denied,
            Permission::Ask => PushState::Off,
            Permission::Granted if !wanted() => PushState::Off,
            Permission::Granted => subscribed(key).await,
        }
    }

    /// Asks for permission (this runs from the button's click), then
    /// subscribes.
    pub(super) async fn enable(key: Option<&str>) -> PushState {
        let Some(key) = key else {
            return PushState::ServerOff;
        };
        match push::request_permission().await {
            Ok(Permission::Granted) => {
                set_wanted(true);
                subscribed(key).await
            }
            Ok(Permission::Denied) => PushState::Denied,
            Ok(Permission::Unsupported) => PushState::Unsupported,
            Ok(Permission::Ask) => PushState::Off,
            Err(error) => PushState::Failed(describe(&error)),
        }
    }

    /// Ends this browser's subscription and forgets it on the server.
    pub(super) async fn disable(device: Option<String>) -> PushState {
        set_wanted(false);
        if let Some(id) = device
            && let Err(error) = remove_device(id).await
        {
            return PushState::Failed(error.to_string());
        }
        let unsubscribed = async {
            let registration = push::registration().await?;
            if let Some(subscription) = push::current(&registration).await? {
                push::unsubscribe(&subscription).await?;
            }
            Ok::<_, wasm_bindgen::JsValue>(())
        };
        match unsubscribed.await {
            Ok(()) => PushState::Off,
            Err(error) => PushState::Failed(describe(&error)),
        }
    }

    /// Makes sure this browser has a subscription with `key` that the
    /// server knows.
    async fn subscribed(key: &str) -> PushState {
        match renew(key).await {
            Ok(endpoint) => PushState::On { endpoint },
            Err(reason) => PushState::Failed(reason),
        }
    }

    async fn renew(key: &str) -> Result<String, String> {
        let registration = push::registration().await.map_err(|e| describe(&e))?;
        let existing = push::current(&registration)
            .await
            .map_err(|e| describe(&e))?;
        let known = list_devices().await.map_err(|e| e.to_string())?;
        let is_known = |subscription: &PushSubscription| {
            let endpoint = subscription.endpoint();
            known.iter().any(|device| device.endpoint == endpoint)
        };

        let old_endpoint = existing.as_ref().map(PushSubscription::endpoint);
        let subscription = match existing {
            Some(subscription) if push::uses_key(&subscription, key) => {
                if is_known(&subscription) {
                    return Ok(subscription.endpoint());
                }
                subscription
            }
            Some(stale) => {
                // Another key: that subscription can never be sent to.
                if let Err(error) = push::unsubscribe(&stale).await {
                    leptos::logging::warn!("old subscription kept: {}", describe(&error));
                }
                fresh(&registration, key).await?
            }
            None => fresh(&registration, key).await?,
        };
        let json = push::to_json_text(&subscription).map_err(|e| describe(&e))?;
        let device = register_device(json, old_endpoint)
            .await
            .map_err(|e| e.to_string())?;
        Ok(device.endpoint)
    }

    async fn fresh(
        registration: &ServiceWorkerRegistration,
        key: &str,
    ) -> Result<PushSubscription, String> {
        push::subscribe(registration, key)
            .await
            .map_err(|e| describe(&e))
    }
}
