//! The Linux/X11 backends.

mod capture;
mod indicator;
mod inject;
mod keymap;
mod overlay;
mod shm;
mod windows;

pub use capture::X11Capturer;
pub use indicator::X11Indicator;
pub use inject::X11Injector;
pub use overlay::X11Overlay;
pub use windows::X11Windows;

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod overlay_tests;
#[cfg(test)]
mod tests;
