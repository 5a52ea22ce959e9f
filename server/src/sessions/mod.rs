//! Remote-help sessions. `machine` is the pure state machine every
//! transition goes through; `code` makes, normalises and checks security
//! codes. Both are free of I/O and time: callers pass the clock's reading.

pub mod code;
pub mod machine;
