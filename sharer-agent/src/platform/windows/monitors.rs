//! The monitors of the virtual desktop, as displays a helper can pick.

use tandem_protocol::input::Display;
use windows::Win32::Foundation::{LPARAM, RECT};
use windows::Win32::Graphics::Gdi::{
    EnumDisplayMonitors, GetMonitorInfoW, HDC, HMONITOR, MONITORINFO, MONITORINFOEXW,
};
use windows::core::BOOL;

/// `MONITORINFOF_PRIMARY`.
const PRIMARY: u32 = 1;

/// One monitor: the display the helper sees, and the GDI device name that
/// DXGI outputs are matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    pub display: Display,
    /// `\\.\DISPLAY1` and so on.
    pub device: String,
}

impl Monitor {
    /// The monitor's rectangle on the virtual desktop.
    pub fn rect(&self) -> (i32, i32, u32, u32) {
        (
            self.display.x,
            self.display.y,
            self.display.width,
            self.display.height,
        )
    }
}

unsafe extern "system" fn collect(
    monitor: HMONITOR,
    _dc: HDC,
    _clip: *mut RECT,
    data: LPARAM,
) -> BOOL {
    // SAFETY: `data` is the `&mut Vec<Monitor>` that `monitors` passes and
    // outlives the enumeration; `info` is a properly sized MONITORINFOEXW.
    let found = unsafe { &mut *(data.0 as *mut Vec<Monitor>) };
    let mut info = MONITORINFOEXW::default();
    info.monitorInfo.cbSize = std::mem::size_of::<MONITORINFOEXW>() as u32;
    let ok = unsafe { GetMonitorInfoW(monitor, (&raw mut info).cast::<MONITORINFO>()) };
    if ok.as_bool() {
        let r = info.monitorInfo.rcMonitor;
        let end = info
            .szDevice
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(info.szDevice.len());
        let device = String::from_utf16_lossy(&info.szDevice[..end]);
        let index = found.len() as u32;
        // `\\.\DISPLAY2` → 2: stable across enumerations.
        let id = device
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(index);
        found.push(Monitor {
            display: Display {
                id,
                name: format!("Display {id}"),
                width: (r.right - r.left).max(0) as u32,
                height: (r.bottom - r.top).max(0) as u32,
                primary: info.monitorInfo.dwFlags & PRIMARY != 0,
                x: r.left,
                y: r.top,
            },
            device,
        });
    }
    true.into()
}

/// Every monitor, primary first.
pub fn monitors() -> Vec<Monitor> {
    let mut found: Vec<Monitor> = Vec::new();
    // SAFETY: `collect` only runs during this call, while `found` lives.
    let _ = unsafe {
        EnumDisplayMonitors(None, None, Some(collect), LPARAM((&raw mut found) as isize))
    };
    found.sort_by_key(|m| (!m.display.primary, m.display.id));
    found
}
