//! The Linux/X11 backends.

mod capture;
mod indicator;
mod inject;
mod keymap;
mod shm;

pub use capture::X11Capturer;
pub use indicator::X11Indicator;
pub use inject::X11Injector;

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod tests;
