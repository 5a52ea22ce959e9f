//! Remote-help sessions.
//!
//! - `machine`: the pure state machine every transition goes through;
//! - `code`: makes, normalises and checks security codes;
//! - `service`: the operations (issue, act, housekeeping), checked
//!   by the machine and the RBAC resolver, written through the store;
//! - `redeem`: the sharer enters a code (limits, checks, code failures);
//! - `records`: the ticket reference and tenant-local time of the record;
//! - `views`: a session as each participant sees it;
//! - `hub`: who is connected to which session;
//! - `signaling`: one signaling connection, generic over `Sink`/`Stream`;
//! - `frame_rate`: the frame budget of every WebSocket (a pure token
//!   bucket);
//! - `keys`: the code-hashing key and the grant-signing key;
//! - `ice`: STUN/TURN servers for the browsers;
//! - `policy`: the RBAC and tenant checks of a session;
//! - `agents`: connected agents, pairing links, device-auth nonces;
//! - `devices`: agent registration, device authentication, pairing, and
//!   sessions started from the device page;
//! - `stop`: sessions ended by an administrator or by turning remote help
//!   off, and elevation reported as used by the agent.
//!
//! The machine and the code module are free of I/O and time: callers pass
//! the clock's reading.

mod agent_socket;
mod agents;
pub mod cluster;
mod cluster_pg;
pub mod code;
mod devices;
mod ended_rooms;
mod error;
mod files;
pub mod frame_rate;
mod housekeeping;
pub mod hub;
mod issue;
pub mod keys;
mod lifecycle;
mod limits;
mod policy;
mod records;
mod redeem;
mod relay;
mod replica;
mod resolved;
mod room;
mod service;
pub mod signaling;
mod stop;
mod tools;
mod views;

#[cfg(test)]
mod replica_tests;
#[cfg(test)]
mod signaling_tests;
#[cfg(test)]
mod store_failure_tests;
#[cfg(test)]
mod test_world;
#[cfg(test)]
mod transition_tests;

pub use agent_socket::serve_agent;
pub use agents::Agents;
pub use error::{SessionError, SessionResult};
pub use lifecycle::SocketHold;
pub use limits::{DEFAULT_CODE_REDEMPTIONS_PER_MINUTE, code_limits};
pub use service::{Action, Sessions, Timing, media_party, party_of};
pub use views::abbreviate;
