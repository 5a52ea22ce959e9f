//! Times as people read them, in the browser's language and time zone.

use crate::format::iso_time;
use leptos::prelude::*;

fn format(ms: i64, options: &[(&str, &str)]) -> String {
    let settings = js_sys::Object::new();
    for (key, value) in options {
        let _ = js_sys::Reflect::set(&settings, &(*key).into(), &(*value).into());
    }
    let formatter = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &settings);
    // f64 holds every millisecond timestamp up to year 285 616 exactly.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    formatter
        .format()
        .call1(&wasm_bindgen::JsValue::NULL, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| iso_time(ms))
}

/// "4 Dec 2025, 14:03" (in the browser's own order and words).
pub fn readable_time(ms: i64) -> String {
    format(ms, &[("dateStyle", "medium"), ("timeStyle", "short")])
}

/// "4 Dec 2025".
pub fn readable_date(ms: i64) -> String {
    format(ms, &[("dateStyle", "medium")])
}

/// A `<time>` with the readable text and the exact time as its
/// `datetime` and tooltip.
#[component]
pub fn Time(ms: i64, #[prop(optional)] date_only: bool) -> impl IntoView {
    let text = if date_only {
        readable_date(ms)
    } else {
        readable_time(ms)
    };
    view! { <time datetime=iso_time(ms) title=readable_time(ms)>{text}</time> }
}
