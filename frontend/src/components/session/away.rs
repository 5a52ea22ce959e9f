//! How long someone the session needs has left to come back before it
//! ends, counted down on the page from the server's figure
//! (`SessionView::reconnect_left_ms`, as of when the view arrived: the
//! browser's clock may differ from the server's).

use leptos::prelude::*;
use tandem_protocol::session::SessionView;

/// The milliseconds left, read again every second while the page lives;
/// `None` while nobody is away.
pub fn time_left(session: RwSignal<Option<SessionView>>) -> impl Fn() -> Option<u64> + Copy {
    let arrived = RwSignal::new(js_sys::Date::now());
    Effect::new(move |_| {
        session.track();
        arrived.set(js_sys::Date::now());
    });
    let tick = RwSignal::new(0u32);
    if let Ok(handle) = set_interval_with_handle(
        move || tick.update(|t| *t = t.wrapping_add(1)),
        std::time::Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    move || {
        tick.track();
        let left = session.with(|v| v.as_ref().and_then(|v| v.reconnect_left_ms))?;
        Some(counted_down(left, js_sys::Date::now() - arrived.get()))
    }
}

/// `left` milliseconds, `elapsed` of them gone.
pub fn counted_down(left: u64, elapsed: f64) -> u64 {
    left.saturating_sub(elapsed.max(0.0) as u64)
}

/// " (1:05 left)", rounded up (a second shows until it is over); empty
/// for `None`.
pub fn left_text(left: Option<u64>) -> String {
    left.map(|ms| {
        let seconds = ms.div_ceil(1000);
        format!(" ({}:{:02} left)", seconds / 60, seconds % 60)
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn time_left_reads_as_minutes_and_seconds_rounded_up() {
        assert_eq!(left_text(None), "");
        assert_eq!(left_text(Some(119_001)), " (2:00 left)");
        assert_eq!(left_text(Some(65_000)), " (1:05 left)");
        assert_eq!(left_text(Some(0)), " (0:00 left)");
        assert_eq!(counted_down(10_000, 2_500.7), 7_500);
        assert_eq!(counted_down(1_000, 5_000.0), 0);
        assert_eq!(counted_down(1_000, -50.0), 1_000);
    }
}
