//! Real-time parts of a session in the browser: the signaling socket, the
//! WebRTC peer connection, the agent's data channels and the tile layer
//! drawn over its video.

pub mod files;
pub mod peer;
pub mod remote;
pub mod signal;
pub mod stats;
pub mod tiles;

#[cfg(test)]
mod wire_tests;
