//! The device's windows on Windows: the visible, titled top-level windows
//! that are not tool windows (floating palettes, the agent's own bar and
//! overlay), top of the Z order first. Where one is now is asked of the
//! window manager at each call (its whole window rectangle, as
//! `GetWindowRect` gives it), so the shared area follows moves and
//! resizes; a minimized window is not shown. It has the keyboard when it
//! is the foreground window (or owns it).

use crate::window::{Located, ScreenRect, WindowError, WindowInfo, Windows};
use windows::Win32::Foundation::{HWND, LPARAM, RECT};
use windows::Win32::UI::WindowsAndMessaging::{
    EnumWindows, GA_ROOTOWNER, GWL_EXSTYLE, GetAncestor, GetForegroundWindow, GetWindowLongW,
    GetWindowRect, GetWindowTextW, IsIconic, IsWindow, IsWindowVisible, WS_EX_TOOLWINDOW,
};
use windows::core::BOOL;

pub struct TopWindows;

fn handle(id: u64) -> HWND {
    HWND(id as usize as *mut core::ffi::c_void)
}

fn id_of(window: HWND) -> u64 {
    window.0 as usize as u64
}

/// Where `window` is, if it is shown.
fn rect_of(window: HWND) -> Option<ScreenRect> {
    // SAFETY: plain queries of a window handle; a stale one answers false.
    let shown = unsafe { IsWindow(Some(window)).as_bool() && IsWindowVisible(window).as_bool() };
    if !shown || unsafe { IsIconic(window).as_bool() } {
        return None;
    }
    let mut rect = RECT::default();
    // SAFETY: `rect` is a valid out pointer for the call.
    unsafe { GetWindowRect(window, &mut rect) }.ok()?;
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
            // SAFETY: a query of the window's extended style.
            let style = unsafe { GetWindowLongW(window, GWL_EXSTYLE) } as u32;
            if style & WS_EX_TOOLWINDOW.0 != 0 {
                continue;
            }
            let title = title_of(window);
            let Some(rect) = rect_of(window).filter(|_| !title.trim().is_empty()) else {
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

    fn locate(&mut self, id: u64) -> Result<Option<Located>, WindowError> {
        let window = handle(id);
        Ok(rect_of(window).map(|rect| {
            // SAFETY: plain queries; no handle is kept.
            let foreground = unsafe { GetForegroundWindow() };
            let owner = unsafe { GetAncestor(foreground, GA_ROOTOWNER) };
            Located {
                rect,
                focused: foreground == window || owner == window,
            }
        }))
    }
}
