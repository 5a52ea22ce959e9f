//! The sharer agent as a library: the binary (`main.rs`) only parses the
//! command line and runs [`run::run`]; tests drive the parts directly.
//!
//! - `gate`: the consent gate, pure (no I/O, time passed in);
//! - `capture`, `encode`, `inject`: the capability traits (`Capturer`,
//!   `Encoder`, `Injector`), a synthetic capturer, the H.264 encoder, and
//!   the gated injector;
//! - `indicator`: what the sharing indicator on the device's screen shows
//!   (pure) and the `Indicator` trait its OS backends implement;
//! - `platform`: the one place that picks the OS backends (X11 on Linux;
//!   DXGI/GDI, SendInput, Event Log and the service on Windows);
//! - `media`: the WebRTC connection, RTP, and the capture → encode loop;
//! - `session`: one session's task (signaling, gate, media, input);
//! - `identity`: the device key; `client`: registration and the
//!   device-authenticated WebSockets; `run`: the control loop and sessions;
//! - `journal`: what goes to the device's own log (Event Log, syslog);
//! - `browser`: opens the sharer page.

pub mod browser;
pub mod capture;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod encode;
pub mod error;
pub mod files;
pub mod gate;
pub mod identity;
pub mod indicator;
pub mod inject;
pub mod journal;
pub mod media;
pub mod overlay;
pub mod platform;
pub mod run;
pub mod service;
pub mod session;
pub mod tls;
pub mod window;
