//! Service mode (`tandem-agent service install|uninstall|run`). The service
//! runs as LocalSystem in session 0, which has no screen; it keeps one
//! agent running as SYSTEM inside the signed-in console session. That
//! agent can open the secure desktop, so a helper with Elevation and full
//! control sees and answers UAC prompts, and Ctrl+Alt+Del works (SendSAS).

use crate::platform::{PlatformError, failed};
use std::ffi::OsString;
use std::sync::mpsc;
use std::time::Duration;
use windows::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows::Win32::Security::{
    DuplicateTokenEx, SecurityImpersonation, SetTokenInformation, TOKEN_ALL_ACCESS, TokenPrimary,
    TokenSessionId,
};
use windows::Win32::System::RemoteDesktop::WTSGetActiveConsoleSessionId;
use windows::Win32::System::Threading::{
    CREATE_NO_WINDOW, CREATE_UNICODE_ENVIRONMENT, GetCurrentProcess, OpenProcessToken,
    TerminateProcess, WaitForSingleObject,
};
use windows_service::service::{
    ServiceAccess, ServiceControl, ServiceControlAccept, ServiceErrorControl, ServiceExitCode,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

pub const NAME: &str = "TandemAgent";
const DISPLAY_NAME: &str = "Tandem remote help agent";
/// No console session (nobody signed in at the console).
const NO_SESSION: u32 = 0xFFFF_FFFF;

/// Registers the service (auto-start, LocalSystem) with the agent's
/// arguments, and the Event Log source.
pub fn install(agent_args: &[String]) -> Result<(), PlatformError> {
    let exe = std::env::current_exe().map_err(failed("the agent's own path"))?;
    let manager = ServiceManager::local_computer(
        None::<&str>,
        ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE,
    )
    .map_err(failed(
        "cannot open the service manager (run as administrator)",
    ))?;
    let mut launch: Vec<OsString> = vec!["service".into(), "run".into()];
    launch.extend(agent_args.iter().map(OsString::from));
    let info = ServiceInfo {
        name: NAME.into(),
        display_name: DISPLAY_NAME.into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: launch,
        dependencies: Vec::new(),
        account_name: None,
        account_password: None,
    };
    let service = manager
        .create_service(&info, ServiceAccess::CHANGE_CONFIG | ServiceAccess::START)
        .map_err(failed("cannot create the service"))?;
    let _ = service
        .set_description("Lets your help desk see and, with your consent, control this device.");
    if let Err(error) = super::eventlog::register_source(&exe.to_string_lossy()) {
        println!("tandem-agent: {error}");
    }
    service
        .start::<&str>(&[])
        .map_err(failed("the service was installed but did not start"))
}

pub fn uninstall() -> Result<(), PlatformError> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(failed(
            "cannot open the service manager (run as administrator)",
        ))?;
    let service = manager
        .open_service(NAME, ServiceAccess::STOP | ServiceAccess::DELETE)
        .map_err(failed("the service is not installed"))?;
    let _ = service.stop();
    service
        .delete()
        .map_err(failed("cannot delete the service"))?;
    if let Err(error) = super::eventlog::unregister_source() {
        println!("tandem-agent: {error}");
    }
    Ok(())
}

define_windows_service!(ffi_service_main, service_main);

/// Called by the service control manager (`service run`).
pub fn run() -> Result<(), PlatformError> {
    service_dispatcher::start(NAME, ffi_service_main)
        .map_err(failed("not started by the service manager"))
}

fn service_main(_arguments: Vec<OsString>) {
    if let Err(error) = serve() {
        tracing::error!(%error, "the service stopped");
    }
}

/// The arguments the agent inside the user's session gets: the service's
/// own, minus `service run`.
fn agent_command_line() -> Result<String, PlatformError> {
    let exe = std::env::current_exe().map_err(failed("the agent's own path"))?;
    let mut line = format!("\"{}\"", exe.display());
    for arg in std::env::args()
        .skip(1)
        .filter(|a| a != "service" && a != "run")
    {
        line.push_str(&format!(" \"{}\"", arg.replace('"', "")));
    }
    Ok(line)
}

fn serve() -> Result<(), PlatformError> {
    let (stop_tx, stop) = mpsc::channel();
    let handler = move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            let _ = stop_tx.send(());
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let status = service_control_handler::register(NAME, handler)
        .map_err(failed("cannot register the service control handler"))?;
    let report = |state, accept| {
        let _ = status.set_service_status(ServiceStatus {
            service_type: ServiceType::OWN_PROCESS,
            current_state: state,
            controls_accepted: accept,
            exit_code: ServiceExitCode::Win32(0),
            checkpoint: 0,
            wait_hint: Duration::default(),
            process_id: None,
        });
    };
    report(
        ServiceState::Running,
        ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
    );
    let command_line = agent_command_line()?;
    let mut child: Option<(u32, HANDLE)> = None;
    loop {
        // SAFETY: plain calls; handles are closed when replaced.
        let session = unsafe { WTSGetActiveConsoleSessionId() };
        let alive = child.is_some_and(|(s, process)| {
            s == session && unsafe { WaitForSingleObject(process, 0) } != WAIT_OBJECT_0
        });
        if !alive {
            if let Some((_, process)) = child.take() {
                unsafe {
                    let _ = TerminateProcess(process, 0);
                    let _ = CloseHandle(process);
                }
            }
            if session != NO_SESSION {
                match spawn_in_session(&command_line, session) {
                    Ok(process) => child = Some((session, process)),
                    Err(error) => tracing::warn!(%error, session, "cannot start the agent"),
                }
            }
        }
        if stop.recv_timeout(Duration::from_secs(2)).is_ok() {
            break;
        }
    }
    if let Some((_, process)) = child {
        // SAFETY: our own child; closed once.
        unsafe {
            let _ = TerminateProcess(process, 0);
            let _ = CloseHandle(process);
        }
    }
    report(ServiceState::Stopped, ServiceControlAccept::empty());
    Ok(())
}

/// Starts `command_line` as SYSTEM in `session`, on its interactive
/// desktop.
fn spawn_in_session(command_line: &str, session: u32) -> Result<HANDLE, PlatformError> {
    // SAFETY: tokens and thread handles are closed here; the process
    // handle is returned to the caller, which closes it.
    unsafe {
        let mut own = HANDLE::default();
        OpenProcessToken(GetCurrentProcess(), TOKEN_ALL_ACCESS, &mut own)
            .map_err(failed("OpenProcessToken"))?;
        let mut token = HANDLE::default();
        let duplicated = DuplicateTokenEx(
            own,
            TOKEN_ALL_ACCESS,
            None,
            SecurityImpersonation,
            TokenPrimary,
            &mut token,
        );
        let _ = CloseHandle(own);
        duplicated.map_err(failed("DuplicateTokenEx"))?;
        let set = SetTokenInformation(
            token,
            TokenSessionId,
            (&raw const session).cast(),
            std::mem::size_of::<u32>() as u32,
        );
        if let Err(error) = set {
            let _ = CloseHandle(token);
            return Err(PlatformError::call("SetTokenInformation(session)", error));
        }
        let started = super::account::start_with_token(
            token,
            command_line,
            Some(r"winsta0\default"),
            CREATE_UNICODE_ENVIRONMENT | CREATE_NO_WINDOW,
        );
        let _ = CloseHandle(token);
        started
    }
}
