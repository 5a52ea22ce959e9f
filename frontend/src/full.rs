//! Entry point of the full console (`full.html`): every page of the
//! helper's and the sharer's consoles plus the administration, session
//! records and monitoring. The server sends it for the paths
//! `tandem_protocol::routes::FULL_CONSOLE_PREFIXES` names.

fn main() {
    tandem_frontend::start(tandem_frontend::app::FullApp);
}
