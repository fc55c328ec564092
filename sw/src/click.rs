//! Which window a notification click brings forward.
//!
//! A click should land on the changed collection without opening a window
//! per click: reuse a window that already shows it, else turn one of the
//! app's windows to it, and only open a new window when the app has none.

/// An open window of the worker's origin, as `clients.matchAll` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow<'a> {
    /// Absolute URL of the page it shows.
    pub url: &'a str,
    pub is_focused: bool,
    pub is_visible: bool,
    /// Whether this worker controls it: only then may it navigate it.
    pub is_controlled: bool,
}

/// What to do with the windows, by index into the list given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowChoice {
    /// The window already shows the target: bring it forward.
    Focus(usize),
    /// Bring the window forward and load the target in it.
    FocusAndNavigate(usize),
    /// No window of the app is open: open one on the target.
    Open,
}

/// Chooses how to show `target`, an absolute URL, given the open windows.
///
/// A window shows the target when its page is the target's page or one
/// below it (a record of the target collection), ignoring query and
/// fragment; the start page `/` therefore covers every page of the app.
/// Among several candidates the focused one wins, then a visible one, then
/// the first listed (browsers list the most recently focused first).
pub fn choose_window(windows: &[OpenWindow<'_>], target: &str) -> WindowChoice {
    let target_origin = origin_of(target);
    let on_origin = |window: &OpenWindow<'_>| origin_of(window.url) == target_origin;

    let showing = best(windows, |window| {
        on_origin(window) && is_at_or_below(path_of(window.url), path_of(target))
    });
    if let Some(index) = showing {
        return WindowChoice::Focus(index);
    }
    let reusable = best(windows, |window| on_origin(window) && window.is_controlled);
    match reusable {
        Some(index) => WindowChoice::FocusAndNavigate(index),
        None => WindowChoice::Open,
    }
}

/// Index of the most prominent window that `fits`.
fn best(windows: &[OpenWindow<'_>], fits: impl Fn(&OpenWindow<'_>) -> bool) -> Option<usize> {
    let mut candidates = windows
        .iter()
        .enumerate()
        .filter(|(_, window)| fits(window));
    let first = candidates.next()?;
    // `max_by_key` keeps the last of equals; fold keeps the first listed.
    let (index, _) = candidates.fold(first, |chosen, candidate| {
        if prominence(candidate.1) > prominence(chosen.1) {
            candidate
        } else {
            chosen
        }
    });
    Some(index)
}

fn prominence(window: &OpenWindow<'_>) -> (bool, bool) {
    (window.is_focused, window.is_visible)
}

fn is_at_or_below(path: &str, target_path: &str) -> bool {
    let target_path = target_path.trim_end_matches('/');
    let path = path.trim_end_matches('/');
    path == target_path
        || path
            .strip_prefix(target_path)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `scheme://host[:port]` of an absolute URL, or the whole text if it has
/// no path.
fn origin_of(url: &str) -> &str {
    let Some(after_scheme) = url.find("://").map(|at| at + 3) else {
        return url;
    };
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| after_scheme + at);
    &url[..end]
}

/// The path of an absolute URL, without query or fragment; `/` when empty.
fn path_of(url: &str) -> &str {
    let rest = &url[origin_of(url).len()..];
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() { "/" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLLECTION: &str = "https://app.example/buckets/b/collections/c";

    fn window(url: &str) -> OpenWindow<'_> {
        OpenWindow {
            url,
            is_focused: false,
            is_visible: false,
            is_controlled: true,
        }
    }

    #[test]
    fn no_window_opens_one() {
        assert_eq!(choose_window(&[], COLLECTION), WindowChoice::Open);
    }

    #[test]
    fn window_on_the_target_is_focused() {
        let windows = [window("https://app.example/"), window(COLLECTION)];

        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(1));
    }

    #[test]
    fn window_within_the_collection_counts_as_on_it() {
        let windows = [
            window("https://app.example/buckets/b/collections/cc"),
            window("https://app.example/buckets/b/collections/c/records/r1?x#y"),
        ];

        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(1));
    }

    #[test]
    fn query_and_fragment_do_not_matter() {
        let windows = [window("https://app.example/buckets/b/collections/c/#list")];

        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(0));
    }

    #[test]
    fn focused_then_visible_window_is_preferred() {
        let visible = OpenWindow {
            is_visible: true,
            ..window(COLLECTION)
        };
        let focused = OpenWindow {
            is_focused: true,
            is_visible: true,
            ..window(COLLECTION)
        };

        let windows = [window(COLLECTION), visible, focused];
        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(2));
        let windows = [window(COLLECTION), visible, window(COLLECTION)];
        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(1));
        let windows = [window(COLLECTION), window(COLLECTION)];
        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(0));
    }

    #[test]
    fn other_app_window_is_navigated() {
        let focused = OpenWindow {
            is_focused: true,
            ..window("https://app.example/buckets/x")
        };
        let windows = [window("https://app.example/"), focused];

        assert_eq!(
            choose_window(&windows, COLLECTION),
            WindowChoice::FocusAndNavigate(1)
        );
    }

    #[test]
    fn uncontrolled_window_is_focused_but_never_navigated() {
        let uncontrolled = |url| OpenWindow {
            is_controlled: false,
            ..window(url)
        };

        let windows = [uncontrolled(COLLECTION)];
        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Focus(0));
        let windows = [uncontrolled("https://app.example/")];
        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Open);
    }

    #[test]
    fn start_page_target_is_shown_by_any_app_window() {
        let windows = [window(COLLECTION)];

        assert_eq!(
            choose_window(&windows, "https://app.example/"),
            WindowChoice::Focus(0)
        );
    }

    #[test]
    fn windows_of_another_origin_are_ignored() {
        let windows = [
            window("https://app.example.other/buckets/b/collections/c"),
            window("http://app.example/buckets/b/collections/c"),
        ];

        assert_eq!(choose_window(&windows, COLLECTION), WindowChoice::Open);
    }
}
