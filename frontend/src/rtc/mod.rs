//! Real-time parts of a session in the browser: the signaling socket and
//! the WebRTC peer connection.

pub mod peer;
pub mod remote;
pub mod signal;
pub mod stats;
