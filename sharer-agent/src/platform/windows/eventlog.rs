//! The Windows Event Log: session start and end go to the Application
//! log under the source "Tandem". `service install` registers the source
//! (an administrator's step); an unregistered source still logs, with
//! Event Viewer's "description not found" preamble.

use super::wide;
use crate::journal::{DeviceLog, Entry, LogError};
use crate::platform::PlatformError;
use windows::Win32::Foundation::HANDLE;
use windows::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_INFORMATION_TYPE, RegisterEventSourceW, ReportEventW,
};
use windows::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, KEY_SET_VALUE, REG_DWORD, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE,
    RegCloseKey, RegCreateKeyExW, RegDeleteKeyW, RegSetValueExW,
};
use windows::core::PCWSTR;

pub const SOURCE: &str = "Tandem";
const SOURCE_KEY: &str = r"SYSTEM\CurrentControlSet\Services\EventLog\Application\Tandem";

/// Writes through a handle opened once.
pub struct EventLog {
    handle: Option<isize>,
}

impl EventLog {
    pub fn open() -> Self {
        let source = wide(SOURCE);
        // SAFETY: a NUL-terminated name that outlives the call.
        let handle = unsafe { RegisterEventSourceW(PCWSTR::null(), PCWSTR(source.as_ptr())) };
        match handle {
            Ok(handle) => Self {
                handle: Some(handle.0 as isize),
            },
            Err(error) => {
                tracing::warn!(%error, "the Event Log cannot be opened");
                Self { handle: None }
            }
        }
    }
}

impl DeviceLog for EventLog {
    fn write(&self, entry: &Entry) -> Result<(), LogError> {
        tracing::info!(event = entry.event_id(), "{}", entry.text());
        let Some(handle) = self.handle else {
            return Err(LogError::NotOpen);
        };
        let text = wide(&entry.text());
        let strings = [PCWSTR(text.as_ptr())];
        // SAFETY: the handle is open (closed only in drop); the strings are
        // NUL-terminated and outlive the call.
        unsafe {
            ReportEventW(
                HANDLE(handle as *mut _),
                EVENTLOG_INFORMATION_TYPE,
                0,
                entry.event_id(),
                None,
                0,
                Some(&strings),
                None,
            )
        }
        .map_err(|e| LogError::Call {
            call: "ReportEventW",
            detail: e.to_string(),
        })
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // SAFETY: opened in `open`, closed once.
            let _ = unsafe { DeregisterEventSource(HANDLE(handle as *mut _)) };
        }
    }
}

/// Registers the source, with `exe` as its message file (administrators
/// only).
pub fn register_source(exe: &str) -> Result<(), PlatformError> {
    let key_name = wide(SOURCE_KEY);
    let mut key = HKEY::default();
    // SAFETY: out-pointer to a local; the key is closed below.
    let status = unsafe {
        RegCreateKeyExW(
            HKEY_LOCAL_MACHINE,
            PCWSTR(key_name.as_ptr()),
            None,
            PCWSTR::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_SET_VALUE,
            None,
            &mut key,
            None,
        )
    };
    if status.is_err() {
        return Err(PlatformError::call(
            format!("cannot create {SOURCE_KEY}"),
            format!("{status:?}"),
        ));
    }
    let file: Vec<u8> = wide(exe).iter().flat_map(|u| u.to_le_bytes()).collect();
    let types = 7u32.to_le_bytes(); // error, warning, information
    let message_file = wide("EventMessageFile");
    let types_name = wide("TypesSupported");
    // SAFETY: open key, NUL-terminated names, data slices as typed.
    let result = unsafe {
        let a = RegSetValueExW(
            key,
            PCWSTR(message_file.as_ptr()),
            None,
            REG_EXPAND_SZ,
            Some(&file),
        );
        let b = RegSetValueExW(
            key,
            PCWSTR(types_name.as_ptr()),
            None,
            REG_DWORD,
            Some(&types),
        );
        let _ = RegCloseKey(key);
        (a, b)
    };
    if result.0.is_err() || result.1.is_err() {
        return Err(PlatformError::call(
            format!("cannot write {SOURCE_KEY}"),
            format!("{result:?}"),
        ));
    }
    Ok(())
}

pub fn unregister_source() -> Result<(), PlatformError> {
    let key_name = wide(SOURCE_KEY);
    // SAFETY: a NUL-terminated key name.
    let status = unsafe { RegDeleteKeyW(HKEY_LOCAL_MACHINE, PCWSTR(key_name.as_ptr())) };
    if status.is_err() {
        return Err(PlatformError::call(
            format!("cannot delete {SOURCE_KEY}"),
            format!("{status:?}"),
        ));
    }
    Ok(())
}
