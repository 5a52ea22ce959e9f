//! Entry point of the helper's console (`index.html`): sign-in, devices,
//! sessions and the sharer's pages. `full.rs` is the full console.

fn main() {
    tandem_frontend::start(tandem_frontend::app::App);
}
