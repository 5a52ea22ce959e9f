//! Media for one session: the WebRTC connection to the helper (`peer`),
//! the keyframe-request interceptor (`keyframes`), small changes as lossless
//! tiles (`tiles`), RTP packetizing on the
//! capture clock (`rtp`), the WebRTC runtime with its UDP fallback
//! (`runtime`), the capture → encode loop (`stream`) with its pacing
//! (`pacer`), what really changed in a capture (`changes`), and the
//! device's own addresses, whose change restarts ICE (`addresses`).

pub mod addresses;
pub mod changes;
pub mod keyframes;
pub mod pacer;
pub mod peer;
mod peer_tools;
pub mod rtp;
pub mod runtime;
pub mod stream;
pub mod tiles;
pub mod turn_tcp;
pub mod window_mask;

pub use peer::{AgentPeer, MediaError, PeerEvent};
pub use rtp::Packetizer;
pub use stream::{StreamEvent, StreamSwitches};
