//! Device lists.

mod table;

pub use table::DeviceTable;
