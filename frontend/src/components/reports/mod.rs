//! Pieces of the report and monitor pages: the SVG charts, the export
//! link and formatting of durations.

mod charts;
mod export;

pub use charts::{DayChart, OutcomeChart};
pub use export::ExportLink;

/// "1 h 02 min", "4 min 05 s", "12 s" from milliseconds.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min {s:02} s"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn durations_read_naturally() {
        assert_eq!(duration(12_400), "12 s");
        assert_eq!(duration(245_000), "4 min 05 s");
        assert_eq!(duration(3_720_000), "1 h 02 min");
        assert_eq!(duration(-5), "0 s");
    }
}
