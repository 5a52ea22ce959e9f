//! Entry point of the console's wasm binary.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tandem_frontend::app::App);
}
