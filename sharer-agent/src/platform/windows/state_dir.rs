//! The service's state folder holds the device's private key, so only
//! SYSTEM and Administrators may open it: `service install` gives it a
//! protected DACL (nothing inherited from `%ProgramData%`, which every user
//! can read) before the key is written.

use super::wide;
use crate::platform::{PlatformError, failed};
use std::path::Path;
use windows::Win32::Foundation::{HLOCAL, LocalFree};
use windows::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows::Win32::Security::{
    DACL_SECURITY_INFORMATION, GetFileSecurityW, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, SetFileSecurityW,
};
use windows::core::{PCWSTR, PWSTR};

/// Full control for SYSTEM and Administrators, inherited by what is
/// created inside; protected from the parent's entries.
pub const PROTECTED: &str = "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

/// Creates `dir` if needed and restricts it (and anything already in it).
pub fn protect(dir: &Path) -> Result<(), PlatformError> {
    std::fs::create_dir_all(dir).map_err(failed(format!("cannot create {}", dir.display())))?;
    let sddl = wide(PROTECTED);
    let mut descriptor = PSECURITY_DESCRIPTOR::default();
    // SAFETY: a NUL-terminated string; the descriptor is freed below.
    unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            PCWSTR(sddl.as_ptr()),
            SDDL_REVISION_1,
            &mut descriptor,
            None,
        )
    }
    .map_err(failed("the state folder's access rules"))?;
    let mut paths = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        paths.extend(entries.filter_map(Result::ok).map(|e| e.path()));
    }
    let mut result = Ok(());
    for path in paths {
        let name = wide(&path.to_string_lossy());
        // SAFETY: a NUL-terminated path and a valid descriptor.
        let set = unsafe {
            SetFileSecurityW(
                PCWSTR(name.as_ptr()),
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                descriptor,
            )
        };
        if !set.as_bool() {
            result = Err(PlatformError::call(
                format!("cannot restrict {}", path.display()),
                windows::core::Error::from_thread(),
            ));
            break;
        }
    }
    // SAFETY: allocated by the conversion above, freed once.
    unsafe { LocalFree(Some(HLOCAL(descriptor.0))) };
    result
}

/// The DACL of `path` in SDDL.
pub fn dacl(path: &Path) -> Result<String, PlatformError> {
    let name = wide(&path.to_string_lossy());
    let mut needed = 0u32;
    // SAFETY: a size query (no buffer), then a read into a buffer of
    // that size.
    unsafe {
        let _ = GetFileSecurityW(
            PCWSTR(name.as_ptr()),
            DACL_SECURITY_INFORMATION.0,
            None,
            0,
            &mut needed,
        );
    }
    let mut buffer = vec![0u8; needed.max(1) as usize];
    let descriptor = PSECURITY_DESCRIPTOR(buffer.as_mut_ptr().cast());
    // SAFETY: as above; the buffer outlives every use of `descriptor`.
    let read = unsafe {
        GetFileSecurityW(
            PCWSTR(name.as_ptr()),
            DACL_SECURITY_INFORMATION.0,
            Some(descriptor),
            needed,
            &mut needed,
        )
    };
    if !read.as_bool() {
        return Err(PlatformError::call(
            format!("cannot read the access rules of {}", path.display()),
            windows::core::Error::from_thread(),
        ));
    }
    let mut text = PWSTR::null();
    // SAFETY: a valid descriptor; the string is freed below.
    unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor,
            SDDL_REVISION_1,
            DACL_SECURITY_INFORMATION,
            &mut text,
            None,
        )
    }
    .map_err(failed(
        "ConvertSecurityDescriptorToStringSecurityDescriptorW",
    ))?;
    // SAFETY: NUL-terminated, allocated by the call above, freed once.
    let sddl = unsafe { text.to_string() }.map_err(failed("the access rules' text"));
    unsafe { LocalFree(Some(HLOCAL(text.0.cast()))) };
    sddl
}
