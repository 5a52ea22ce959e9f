//! Adds up the `test result:` lines of every test binary into one summary.

use std::ops::AddAssign;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

/// Parses `test result: ok. 4 passed; 0 failed; 1 ignored; ...`.
pub fn parse_result_line(line: &str) -> Option<Counts> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let mut counts = Counts::default();
    for part in rest.split(';') {
        let mut words = part.split_whitespace().rev();
        let (Some(label), Some(number)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => counts.passed = n,
            "failed" => counts.failed = n,
            "ignored" => counts.ignored = n,
            _ => {}
        }
    }
    Some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_and_wasm_bindgen_test_lines() {
        let cargo = "test result: ok. 22 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.27s";
        assert_eq!(
            parse_result_line(cargo),
            Some(Counts {
                passed: 22,
                failed: 0,
                ignored: 1
            })
        );
        let failed = "test result: FAILED. 10 passed; 1 failed; 0 ignored; 0 measured";
        assert_eq!(parse_result_line(failed).map(|c| c.failed), Some(1));
        let wasm =
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 filtered out; finished in 0.05s";
        assert_eq!(parse_result_line(wasm).map(|c| c.passed), Some(3));
        assert_eq!(parse_result_line("running 3 tests"), None);
    }
}
