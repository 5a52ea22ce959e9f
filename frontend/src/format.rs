//! Formatting for display.

/// "just now", "5 min ago", "3 h ago", "2 days ago" from two epoch-millisecond times.
pub fn relative_time(now_ms: i64, then_ms: i64) -> String {
    let seconds = (now_ms - then_ms) / 1000;
    if seconds < 0 {
        return "in the future".to_owned();
    }
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    match (minutes, hours, days) {
        (0, _, _) => "just now".to_owned(),
        (m, 0, _) => format!("{m} min ago"),
        (_, h, 0) => format!("{h} h ago"),
        (_, _, 1) => "1 day ago".to_owned(),
        (_, _, d) => format!("{d} days ago"),
    }
}

/// ISO 8601 for a `<time datetime>` attribute.
pub fn iso_time(ms: i64) -> String {
    // f64 holds every millisecond timestamp up to year 285 616 exactly.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    String::from(date.to_iso_string())
}

/// The browser's current time in epoch milliseconds.
pub fn now_ms() -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let now = js_sys::Date::now() as i64;
    now
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn relative_times_read_naturally() {
        let min = 60_000;
        assert_eq!(relative_time(10 * min, 10 * min), "just now");
        assert_eq!(relative_time(10 * min, 5 * min), "5 min ago");
        assert_eq!(relative_time(300 * min, 100 * min), "3 h ago");
        assert_eq!(relative_time(26 * 60 * min, 0), "1 day ago");
        assert_eq!(relative_time(72 * 60 * min, 0), "3 days ago");
        assert_eq!(relative_time(0, min), "in the future");
    }

    #[wasm_bindgen_test]
    fn iso_time_is_utc() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
    }
}
