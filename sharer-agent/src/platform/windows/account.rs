//! The signed-in sharer's account: whether this process is SYSTEM, the
//! warning before sign-out, the sign-out itself, and starting a program
//! as the signed-in user (the browser, from the service's agent).

use super::wide;
use crate::platform::{PlatformError, failed};
use windows::Win32::Foundation::{CloseHandle, HANDLE};
use windows::Win32::Security::{
    GetTokenInformation, IsWellKnownSid, TOKEN_QUERY, TOKEN_USER, TokenUser, WinLocalSystemSid,
};
use windows::Win32::System::RemoteDesktop::{
    WTSGetActiveConsoleSessionId, WTSLogoffSession, WTSQueryUserToken, WTSSendMessageW,
};
use windows::Win32::System::Shutdown::{
    EWX_LOGOFF, ExitWindowsEx, SHTDN_REASON_FLAG_PLANNED, SHTDN_REASON_MAJOR_OTHER,
};
use windows::Win32::System::Threading::{
    CREATE_UNICODE_ENVIRONMENT, CreateProcessAsUserW, GetCurrentProcess, OpenProcessToken,
    PROCESS_CREATION_FLAGS, PROCESS_INFORMATION, STARTUPINFOW,
};
use windows::Win32::UI::WindowsAndMessaging::{
    MB_ICONWARNING, MB_OK, MB_SETFOREGROUND, MB_TOPMOST, MESSAGEBOX_RESULT,
};
use windows::core::{PCWSTR, PWSTR};

/// Whether this process runs as LocalSystem (started by the service).
pub fn running_as_system() -> bool {
    let mut token = HANDLE::default();
    // SAFETY: the token is closed below; the buffer is sized by the first
    // call and read as TOKEN_USER only after a successful second call.
    unsafe {
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token).is_err() {
            return false;
        }
        let mut needed = 0u32;
        let _ = GetTokenInformation(token, TokenUser, None, 0, &mut needed);
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8)];
        let ok = GetTokenInformation(
            token,
            TokenUser,
            Some(buffer.as_mut_ptr().cast()),
            needed,
            &mut needed,
        )
        .is_ok();
        let _ = CloseHandle(token);
        if !ok {
            return false;
        }
        let user = &*(buffer.as_ptr().cast::<TOKEN_USER>());
        IsWellKnownSid(user.User.Sid, WinLocalSystemSid).as_bool()
    }
}

/// A message box on the signed-in user's screen that closes itself after
/// `wait` (works from the service too). Does not block.
pub fn warn(title: &str, message: &str, wait: std::time::Duration) {
    let title = wide(title);
    let body = wide(message);
    let mut response = MESSAGEBOX_RESULT::default();
    // SAFETY: the strings outlive the call; lengths are in bytes without
    // the terminator, as WTSSendMessageW wants.
    let result = unsafe {
        WTSSendMessageW(
            None,
            WTSGetActiveConsoleSessionId(),
            PCWSTR(title.as_ptr()),
            ((title.len() - 1) * 2) as u32,
            PCWSTR(body.as_ptr()),
            ((body.len() - 1) * 2) as u32,
            MB_OK | MB_ICONWARNING | MB_TOPMOST | MB_SETFOREGROUND,
            wait.as_secs() as u32,
            &mut response,
            false,
        )
    };
    if let Err(error) = result {
        tracing::warn!(%error, "the sign-out warning could not be shown");
    }
}

/// Signs the console user out: WTSLogoffSession from the service's
/// agent (SYSTEM), ExitWindowsEx from the user's own agent.
pub fn sign_out() -> Result<(), PlatformError> {
    if running_as_system() {
        // SAFETY: plain calls.
        let session = unsafe { WTSGetActiveConsoleSessionId() };
        unsafe { WTSLogoffSession(None, session, false) }
            .map_err(failed(format!("WTSLogoffSession({session})")))
    } else {
        // SAFETY: a plain call.
        unsafe {
            ExitWindowsEx(
                EWX_LOGOFF,
                SHTDN_REASON_MAJOR_OTHER | SHTDN_REASON_FLAG_PLANNED,
            )
        }
        .map_err(failed("ExitWindowsEx"))
    }
}

/// Starts `command_line` with the primary `token`, on `desktop` (like
/// `winsta0\default`) if given. Returns the process handle, which the
/// caller closes; the token stays the caller's.
pub(super) fn start_with_token(
    token: HANDLE,
    command_line: &str,
    desktop: Option<&str>,
    flags: PROCESS_CREATION_FLAGS,
) -> Result<HANDLE, PlatformError> {
    let mut desktop = desktop.map(wide);
    let startup = STARTUPINFOW {
        cb: std::mem::size_of::<STARTUPINFOW>() as u32,
        lpDesktop: desktop
            .as_mut()
            .map_or(PWSTR::null(), |d| PWSTR(d.as_mut_ptr())),
        ..Default::default()
    };
    let mut line = wide(command_line);
    let mut process = PROCESS_INFORMATION::default();
    // SAFETY: the strings outlive the call; the thread handle is closed
    // here and the process handle handed to the caller.
    unsafe {
        CreateProcessAsUserW(
            Some(token),
            PCWSTR::null(),
            Some(PWSTR(line.as_mut_ptr())),
            None,
            None,
            false,
            flags,
            None,
            PCWSTR::null(),
            &startup,
            &mut process,
        )
        .map_err(failed("CreateProcessAsUserW"))?;
        let _ = CloseHandle(process.hThread);
    }
    Ok(process.hProcess)
}

/// Runs `command_line` as the console's signed-in user (from the
/// service's SYSTEM agent: the browser must not run as SYSTEM).
pub fn run_as_console_user(command_line: &str) -> Result<(), PlatformError> {
    let mut token = HANDLE::default();
    // SAFETY: out-pointer to a local; the token is closed below.
    unsafe { WTSQueryUserToken(WTSGetActiveConsoleSessionId(), &mut token) }
        .map_err(failed("WTSQueryUserToken"))?;
    let started = start_with_token(token, command_line, None, CREATE_UNICODE_ENVIRONMENT);
    // SAFETY: handles this function owns, closed once.
    unsafe {
        let _ = CloseHandle(token);
        if let Ok(process) = &started {
            let _ = CloseHandle(*process);
        }
    }
    started.map(drop)
}
