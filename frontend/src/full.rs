//! Entry point of the full console (`full.html`): every page of the
//! helper's console plus the administration, session records and
//! monitoring. The server sends it for the paths
//! `tandem_protocol::routes::FULL_CONSOLE_PREFIXES` names.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tandem_frontend::app::FullApp);
}
