//! Which desktop has the input, and moving a thread onto it. A UAC prompt
//! or the sign-in screen runs on the secure `Winlogon` desktop; only a
//! process running as SYSTEM in the user's session (the agent started by
//! its service) may open it, capture it and send input to it.

use crate::platform::{PlatformError, failed};
use windows::Win32::Foundation::HANDLE;
use windows::Win32::System::StationsAndDesktops::{
    CloseDesktop, DESKTOP_ACCESS_FLAGS, DESKTOP_CONTROL_FLAGS, DESKTOP_CREATEMENU,
    DESKTOP_CREATEWINDOW, DESKTOP_ENUMERATE, DESKTOP_HOOKCONTROL, DESKTOP_JOURNALPLAYBACK,
    DESKTOP_READOBJECTS, DESKTOP_SWITCHDESKTOP, DESKTOP_WRITEOBJECTS, GetThreadDesktop,
    GetUserObjectInformationW, HDESK, OpenInputDesktop, SetThreadDesktop, UOI_NAME,
};
use windows::Win32::System::Threading::GetCurrentThreadId;

/// The user's normal desktop.
pub const DEFAULT: &str = "Default";

/// The desktop with the input, as far as this process can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputDesktop {
    Named(String),
    /// Opening it was refused: a secure desktop this process may not see.
    Inaccessible,
}

impl InputDesktop {
    pub fn is_default(&self) -> bool {
        matches!(self, InputDesktop::Named(name) if name.eq_ignore_ascii_case(DEFAULT))
    }
}

fn name_of(desktop: HDESK) -> Option<String> {
    let mut name = [0u16; 128];
    let mut needed = 0u32;
    // SAFETY: the buffer's size in bytes is passed with it.
    unsafe {
        GetUserObjectInformationW(
            HANDLE(desktop.0),
            UOI_NAME,
            Some(name.as_mut_ptr().cast()),
            (name.len() * 2) as u32,
            Some(&mut needed),
        )
    }
    .ok()?;
    let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    Some(String::from_utf16_lossy(&name[..end]))
}

fn access() -> DESKTOP_ACCESS_FLAGS {
    DESKTOP_ACCESS_FLAGS(
        DESKTOP_READOBJECTS.0
            | DESKTOP_CREATEWINDOW.0
            | DESKTOP_CREATEMENU.0
            | DESKTOP_HOOKCONTROL.0
            | DESKTOP_JOURNALPLAYBACK.0
            | DESKTOP_ENUMERATE.0
            | DESKTOP_WRITEOBJECTS.0
            | DESKTOP_SWITCHDESKTOP.0,
    )
}

pub fn input_desktop() -> InputDesktop {
    // SAFETY: the handle is closed before returning.
    unsafe {
        match OpenInputDesktop(DESKTOP_CONTROL_FLAGS(0), false, DESKTOP_READOBJECTS) {
            Ok(desktop) => {
                let name = name_of(desktop);
                let _ = CloseDesktop(desktop);
                name.map_or(InputDesktop::Inaccessible, InputDesktop::Named)
            }
            Err(_) => InputDesktop::Inaccessible,
        }
    }
}

/// The calling thread's desktop.
pub fn thread_desktop() -> Option<String> {
    // SAFETY: the thread's own desktop handle needs no closing.
    let desktop = unsafe { GetThreadDesktop(GetCurrentThreadId()) }.ok()?;
    name_of(desktop)
}

/// Moves the calling thread onto the input desktop (it must own no
/// windows or hooks). Returns the desktop's name.
pub fn follow_input() -> Result<String, PlatformError> {
    // SAFETY: on success the handle stays open as the thread's desktop
    // (closing it would pull the desktop from under the thread); a
    // process keeps a handful at most, one per switch.
    unsafe {
        let desktop = OpenInputDesktop(DESKTOP_CONTROL_FLAGS(0), false, access())
            .map_err(failed("OpenInputDesktop"))?;
        let name = name_of(desktop).unwrap_or_default();
        if let Err(error) = SetThreadDesktop(desktop) {
            let _ = CloseDesktop(desktop);
            return Err(PlatformError::call("SetThreadDesktop", error));
        }
        Ok(name)
    }
}
