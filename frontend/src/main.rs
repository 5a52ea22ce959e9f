//! Entry point of the helper's console (`index.html`): sign-in, devices
//! and the session workspace. `share.rs` is the sharer's console, `full.rs`
//! the full console.

fn main() {
    tandem_frontend::start(tandem_frontend::app::App);
}
