//! `tandem-agent service install|uninstall|run`: the agent as a Windows
//! service. The flow lives here, above the platform: enrolling the device
//! is the agent's business (`run::register_device`); `platform` only
//! offers the OS steps (protect the state folder, install, uninstall, run).

use crate::cli::{Cli, ServiceAction};
use crate::error::AgentError;
use crate::platform::{self, PlatformError};

pub fn service(action: ServiceAction, cli: &Cli) -> Result<(), AgentError> {
    if !platform::HAS_SERVICE {
        return Err(PlatformError::Unsupported(
            "the service is for Windows; on Linux run the agent in the user's graphical \
             session (for example from a systemd user unit)",
        )
        .into());
    }
    match action {
        ServiceAction::Install => install(cli),
        ServiceAction::Uninstall => Ok(platform::uninstall_service()?),
        ServiceAction::Run => Ok(platform::run_service()?),
    }
}

fn install(cli: &Cli) -> Result<(), AgentError> {
    let server = cli.server()?;
    let state_dir = cli
        .state_dir
        .clone()
        .unwrap_or_else(platform::service_state_dir);
    platform::protect_state_dir(&state_dir)?;
    // Enroll now, as the administrator installing it, so that the token
    // never sits in the service's command line.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?;
    runtime.block_on(crate::run::register_device(
        server,
        &state_dir,
        cli.enroll.clone(),
    ))?;
    // Again for the key just written: Windows has it inherit the folder's
    // rules, but not every file system does (Wine's Unix drive).
    // The service trusts a copy of --ca in its own protected folder: the
    // path as typed may be relative (a service starts in System32) or one
    // that any local user can replace.
    if let Some(ca) = &cli.ca {
        std::fs::copy(ca, state_dir.join(crate::cli::SERVICE_CA_FILE)).map_err(|source| {
            AgentError::CopyCa {
                path: ca.clone(),
                source,
            }
        })?;
    }
    platform::protect_state_dir(&state_dir)?;
    platform::install_service(&cli.service_args(&state_dir))?;
    println!(
        "tandem-agent: the {} service is installed and running",
        platform::SERVICE_NAME
    );
    Ok(())
}
