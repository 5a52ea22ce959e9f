//! The frame around every page.

mod nav;
mod shell;
mod title;

pub use shell::{Shell, use_full_bleed};
pub use title::{Titled, set_title};
