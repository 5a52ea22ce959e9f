//! The device's windows on Windows: the visible, titled top-level windows
//! that are not tool windows (floating palettes) nor the agent's own bar
//! and overlay, top of the Z order first; a cloaked window (on another
//! virtual desktop, or a suspended app) is not shown. Where one is now is
//! asked of the window manager at each call: its visible frame
//! (`DWMWA_EXTENDED_FRAME_BOUNDS`, without the invisible resize border),
//! and the shown windows above it in the Z order that cover part of it, so
//! the shared area follows moves and resizes. A minimized window is not
//! shown; a destroyed one is gone. It has the keyboard when it is the
//! foreground window (or owns it).

use crate::window::{
    Located, Presence, ScreenRect, WindowError, WindowInfo, Windows, is_agents_own,
};
use windows::Win32::Foundation::{HWND, LPARAM, RECT};
use windows::Win32::Graphics::Dwm::{
    DWMWA_CLOAKED, DWMWA_EXTENDED_FRAME_BOUNDS, DwmGetWindowAttribute,
};
use windows::Win32::UI::WindowsAndMessaging::{
    EnumWindows, GA_ROOTOWNER, GW_HWNDPREV, GWL_EXSTYLE, GetAncestor, GetForegroundWindow,
    GetWindow, GetWindowLongW, GetWindowRect, GetWindowTextW, IsIconic, IsWindow, IsWindowVisible,
    WS_EX_TOOLWINDOW,
};
use windows::core::BOOL;

pub struct TopWindows;

fn handle(id: u64) -> HWND {
    HWND(id as usize as *mut core::ffi::c_void)
}

fn id_of(window: HWND) -> u64 {
    window.0 as usize as u64
}

fn cloaked(window: HWND) -> bool {
    let mut cloaked = 0u32;
    // SAFETY: the out value is a u32, as DWMWA_CLOAKED answers.
    let asked = unsafe {
        DwmGetWindowAttribute(
            window,
            DWMWA_CLOAKED,
            (&mut cloaked as *mut u32).cast(),
            std::mem::size_of::<u32>() as u32,
        )
    };
    asked.is_ok() && cloaked != 0
}

/// Where `window` is, if it is shown.
fn rect_of(window: HWND) -> Option<ScreenRect> {
    // SAFETY: plain queries of a window handle; a stale one answers false.
    let shown = unsafe { IsWindowVisible(window).as_bool() && !IsIconic(window).as_bool() };
    if !shown || cloaked(window) {
        return None;
    }
    let mut rect = RECT::default();
    // SAFETY: `rect` is a RECT, as the attribute answers.
    let framed = unsafe {
        DwmGetWindowAttribute(
            window,
            DWMWA_EXTENDED_FRAME_BOUNDS,
            (&mut rect as *mut RECT).cast(),
            std::mem::size_of::<RECT>() as u32,
        )
    };
    if framed.is_err() {
        // SAFETY: `rect` is a valid out pointer for the call.
        unsafe { GetWindowRect(window, &mut rect) }.ok()?;
    }
    let width = u32::try_from(rect.right - rect.left).ok()?;
    let height = u32::try_from(rect.bottom - rect.top).ok()?;
    (width > 0 && height > 0).then_some(ScreenRect {
        x: rect.left,
        y: rect.top,
        width,
        height,
    })
}

fn title_of(window: HWND) -> String {
    let mut buffer = [0u16; 256];
    // SAFETY: the buffer's length is passed with it.
    let len = unsafe { GetWindowTextW(window, &mut buffer) };
    String::from_utf16_lossy(&buffer[..usize::try_from(len).unwrap_or(0).min(buffer.len())])
}

fn tool_window(window: HWND) -> bool {
    // SAFETY: a query of the window's extended style.
    let style = unsafe { GetWindowLongW(window, GWL_EXSTYLE) } as u32;
    style & WS_EX_TOOLWINDOW.0 != 0
}

fn overlaps(a: &ScreenRect, b: &ScreenRect) -> bool {
    i64::from(a.x) < i64::from(b.x) + i64::from(b.width)
        && i64::from(b.x) < i64::from(a.x) + i64::from(a.width)
        && i64::from(a.y) < i64::from(b.y) + i64::from(b.height)
        && i64::from(b.y) < i64::from(a.y) + i64::from(a.height)
}

/// The shown windows above `window` in the Z order that overlap `rect`.
fn covers(window: HWND, rect: &ScreenRect) -> Vec<ScreenRect> {
    let mut covers = Vec::new();
    let mut at = window;
    for _ in 0..1024 {
        // SAFETY: walks the Z order; a null handle ends it.
        let Ok(above) = (unsafe { GetWindow(at, GW_HWNDPREV) }) else {
            break;
        };
        if above.is_invalid() {
            break;
        }
        at = above;
        if is_agents_own(&title_of(above)) {
            continue;
        }
        if let Some(r) = rect_of(above).filter(|r| overlaps(r, rect)) {
            covers.push(r);
        }
    }
    covers
}

unsafe extern "system" fn collect(window: HWND, found: LPARAM) -> BOOL {
    // SAFETY: `found` is the `Vec` that `list` passed, alive for the call.
    let found = unsafe { &mut *(found.0 as *mut Vec<HWND>) };
    found.push(window);
    BOOL(1)
}

impl Windows for TopWindows {
    fn list(&mut self) -> Result<Vec<WindowInfo>, WindowError> {
        let mut all: Vec<HWND> = Vec::new();
        // SAFETY: `collect` only pushes into `all`, which outlives the call.
        unsafe { EnumWindows(Some(collect), LPARAM(&mut all as *mut Vec<HWND> as isize)) }
            .map_err(|e| WindowError::Refused(e.to_string()))?;
        let mut windows = Vec::new();
        for window in all {
            let title = title_of(window);
            if tool_window(window) || title.trim().is_empty() || is_agents_own(&title) {
                continue;
            }
            let Some(rect) = rect_of(window) else {
                continue;
            };
            windows.push(WindowInfo {
                id: id_of(window),
                title,
                rect,
            });
        }
        Ok(windows)
    }

    fn locate(&mut self, id: u64) -> Result<Presence, WindowError> {
        let window = handle(id);
        // SAFETY: a plain query; a stale handle answers false.
        if !unsafe { IsWindow(Some(window)).as_bool() } {
            return Ok(Presence::Gone);
        }
        let Some(rect) = rect_of(window) else {
            return Ok(Presence::Hidden);
        };
        // SAFETY: plain queries; no handle is kept.
        let foreground = unsafe { GetForegroundWindow() };
        let owner = unsafe { GetAncestor(foreground, GA_ROOTOWNER) };
        Ok(Presence::Shown(Located {
            covers: covers(window, &rect),
            focused: foreground == window || owner == window,
            rect,
        }))
    }
}
