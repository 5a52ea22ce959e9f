//! Entry point of the sharer's console (`share.html`): sign-in and the
//! sharer's pages, without the helper's session workspace. The server
//! sends it for the paths `tandem_protocol::routes::SHARER_CONSOLE_PREFIXES`
//! names.

fn main() {
    tandem_frontend::start(tandem_frontend::app::SharerApp);
}
