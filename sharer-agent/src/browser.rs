//! Opens the sharer page in the device's browser.

/// Opens `url` with `program` (default `xdg-open`), or only prints it.
pub fn open(url: &str, program: Option<&str>, print_only: bool) {
    if print_only {
        println!("Open this link to continue: {url}");
        return;
    }
    let program = program.unwrap_or("xdg-open");
    let mut parts = program.split_whitespace();
    let Some(command) = parts.next() else { return };
    match std::process::Command::new(command)
        .args(parts)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => tracing::info!(%url, "opened the sharer page"),
        Err(error) => {
            tracing::warn!(%error, program, "cannot open a browser");
            println!("Open this link to continue: {url}");
        }
    }
}
