//! Steps of a session that several suites (and the session benchmark) take
//! the same way in two browsers.

use crate::{Browser, HarnessError};

/// The sharer, on the sharer page already (paired with a device, or not),
/// enters `code`; returns once the helper sees them join.
pub async fn join_with_code(
    helper: &Browser,
    sharer: &Browser,
    code: &str,
) -> Result<(), HarnessError> {
    sharer.fill("#share-code", code).await?;
    sharer.click("form button[type=submit]").await?;
    helper
        .wait_for_text_containing("#session-status", "Sharer joined")
        .await?;
    Ok(())
}

/// Which mode the helper asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    View,
    FullControl,
}

/// The helper asks for `mode`, the sharer allows it, and the helper's
/// status says it is connected in that mode.
pub async fn grant(helper: &Browser, sharer: &Browser, mode: Ask) -> Result<(), HarnessError> {
    let (button, status) = match mode {
        Ask::View => ("Screen sharing", "Connected (view only)"),
        Ask::FullControl => ("Request full control", "Connected (full control)"),
    };
    helper.click_button(button).await?;
    sharer.click_button("Allow").await?;
    helper
        .wait_for_text_containing("#session-status", status)
        .await?;
    Ok(())
}
