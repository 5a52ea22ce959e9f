//! Entry point of the helper's console (`index.html`): sign-in, devices,
//! sessions and the sharer's pages. `full.rs` is the full console.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tandem_frontend::app::App);
}
