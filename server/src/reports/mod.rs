//! Session reports: tenant-local days and working hours (`local`), the
//! monitor page (`monitor`), a session's log in words (`steps`), the CSV
//! export (`csv`), the retention job (`retention`) and the live feed
//! (`live`). The records themselves are written by the store in the same
//! transaction as each session change.

pub mod access_review;
pub mod csv;
pub mod live;
pub mod monitor;
pub mod retention;
pub mod steps;
