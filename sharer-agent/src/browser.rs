//! Opens the sharer page in the device's browser.

/// Opens `url` with `program` (default: the OS's link opener), or only
/// prints it.
pub fn open(url: &str, program: Option<&str>, print_only: bool) {
    if print_only {
        println!("Open this link to continue: {url}");
        return;
    }
    let program = program.unwrap_or(crate::platform::BROWSER);
    match crate::platform::open_link(&format!("{program} {url}")) {
        Ok(()) => tracing::info!(%url, "opened the sharer page"),
        Err(error) => {
            tracing::warn!(%error, program, "cannot open a browser");
            println!("Open this link to continue: {url}");
        }
    }
}
