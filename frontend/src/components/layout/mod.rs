//! The frame around every page.

mod shell;

pub use shell::Shell;
