//! The annotation overlay on Windows: one topmost, layered, click-through
//! tool window (`WS_EX_TRANSPARENT`, never activated) over the shared
//! monitor. It paints the strokes with GDI pens on a colour key
//! (`LWA_COLORKEY`), so everything but the strokes shows through, and asks
//! to be left out of screen capture (`WDA_EXCLUDEFROMCAPTURE`): the
//! helper's console draws its own strokes at the same pixels (see
//! `crate::overlay`). Where Windows refuses that (older Windows, Wine) it
//! is logged and the strokes are in the picture too, at the same pixels.
//! A thread of its own runs the window's message loop.

use super::wide;
use crate::overlay::{Overlay, OverlayError};
use std::cell::RefCell;
use std::sync::mpsc as std_mpsc;
use tandem_protocol::annotation::{Sketch, Stroke};
use tandem_protocol::input::Display;
use windows::Win32::Foundation::{COLORREF, HWND, LPARAM, LRESULT, RECT, WPARAM};
use windows::Win32::Graphics::Gdi::{
    BeginPaint, CreatePen, CreateSolidBrush, DeleteObject, EndPaint, FillRect, HGDIOBJ,
    InvalidateRect, LineTo, MoveToEx, PAINTSTRUCT, PS_SOLID, SelectObject,
};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::Threading::GetCurrentThreadId;
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, GetMessageW, HWND_TOPMOST,
    LWA_COLORKEY, MA_NOACTIVATE, MSG, PM_NOREMOVE, PeekMessageW, PostThreadMessageW,
    RegisterClassExW, SET_WINDOW_POS_FLAGS, SW_HIDE, SWP_NOACTIVATE, SWP_NOZORDER, SWP_SHOWWINDOW,
    SetLayeredWindowAttributes, SetWindowDisplayAffinity, SetWindowPos, ShowWindow,
    TranslateMessage, WDA_EXCLUDEFROMCAPTURE, WM_APP, WM_MOUSEACTIVATE, WM_PAINT, WM_QUIT,
    WNDCLASSEXW, WS_EX_LAYERED, WS_EX_NOACTIVATE, WS_EX_TOOLWINDOW, WS_EX_TOPMOST,
    WS_EX_TRANSPARENT, WS_POPUP,
};
use windows::core::PCWSTR;

/// The overlay's window class and title.
const CLASS: &str = "TandemAnnotation";
pub const OVERLAY_TITLE: &str = "Tandem annotation";
/// The thread message that says strokes are waiting.
const WM_STROKES_WAITING: u32 = WM_APP + 2;
/// The colour key: painted where there is no stroke, shown as nothing.
const KEY_RGB: u32 = 0xff_00_ff;

/// 0xRRGGBB as GDI's 0x00BBGGRR.
fn colour(rgb: u32) -> COLORREF {
    COLORREF(((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff))
}

fn window_error(what: &str, e: impl std::fmt::Display) -> OverlayError {
    OverlayError::Draw(format!("{what}: {e}"))
}

type Command = Option<(Vec<Stroke>, Display)>;

/// The overlay; its thread closes the window when this is dropped.
pub struct WindowsOverlay {
    commands: std_mpsc::Sender<Command>,
    thread: u32,
}

impl std::fmt::Debug for WindowsOverlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowsOverlay")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

impl WindowsOverlay {
    /// Starts the thread and makes the (hidden) window.
    pub fn start() -> Result<Self, OverlayError> {
        let (commands, received) = std_mpsc::channel();
        let (ready, started) = std_mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("tandem-overlay".into())
            .spawn(move || ui_thread(&received, &ready))
            .map_err(|e| OverlayError::Connect(e.to_string()))?;
        let thread = started
            .recv()
            .map_err(|_| OverlayError::Connect("the overlay's thread ended".into()))??;
        Ok(Self { commands, thread })
    }

    fn wake(&self, message: u32) {
        // SAFETY: a plain call; the thread made its queue before it said
        // it was ready.
        if let Err(error) =
            unsafe { PostThreadMessageW(self.thread, message, WPARAM(0), LPARAM(0)) }
        {
            tracing::debug!(%error, "the overlay's thread did not take a message");
        }
    }
}

impl Overlay for WindowsOverlay {
    fn show(&mut self, strokes: &[Stroke], display: &Display) -> Result<(), OverlayError> {
        let command = (!strokes.is_empty()).then(|| (strokes.to_vec(), display.clone()));
        self.commands
            .send(command)
            .map_err(|_| OverlayError::Draw("the overlay's thread ended".into()))?;
        self.wake(WM_STROKES_WAITING);
        Ok(())
    }
}

impl Drop for WindowsOverlay {
    fn drop(&mut self) {
        self.wake(WM_QUIT);
    }
}

/// What the window procedure paints, on the overlay's thread only.
struct Ui {
    window: HWND,
    shown: Command,
}

/// Whether the overlay is on screen now (it goes on top only when it
/// appears, so the sharing indicator, raised every second, stays above).
fn visible(window: HWND) -> bool {
    // SAFETY: a plain query on a window of this thread.
    unsafe { windows::Win32::UI::WindowsAndMessaging::IsWindowVisible(window) }.as_bool()
}

thread_local! {
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

fn ui_thread(
    commands: &std_mpsc::Receiver<Command>,
    ready: &std_mpsc::SyncSender<Result<u32, OverlayError>>,
) {
    let window = match make_window() {
        Ok(window) => window,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    UI.with(|ui| {
        *ui.borrow_mut() = Some(Ui {
            window,
            shown: None,
        })
    });
    let mut message = MSG::default();
    // SAFETY: makes this thread's message queue before anyone posts to it.
    let _ = unsafe { PeekMessageW(&mut message, None, 0, 0, PM_NOREMOVE) };
    // SAFETY: a plain call.
    let _ = ready.send(Ok(unsafe { GetCurrentThreadId() }));
    // SAFETY: `message` is a valid MSG for each call; GetMessageW returns
    // 0 on WM_QUIT and -1 on error, both of which end the loop.
    while unsafe { GetMessageW(&mut message, None, 0, 0) }.0 > 0 {
        if message.hwnd.is_invalid() && message.message == WM_STROKES_WAITING {
            // Only the newest strokes matter.
            let mut newest = None;
            while let Ok(next) = commands.try_recv() {
                newest = Some(next);
            }
            if let Some(next) = newest {
                apply(next);
            }
            continue;
        }
        // SAFETY: a message this thread's queue returned.
        unsafe {
            let _ = TranslateMessage(&message);
            DispatchMessageW(&message);
        }
    }
    UI.with(|ui| ui.borrow_mut().take());
    // SAFETY: the window this thread made.
    let _ = unsafe { DestroyWindow(window) };
}

fn make_window() -> Result<HWND, OverlayError> {
    let class = wide(CLASS);
    let title = wide(OVERLAY_TITLE);
    // SAFETY: the module of this process.
    let instance = unsafe { GetModuleHandleW(None) }.map_err(|e| window_error("module", e))?;
    let class_info = WNDCLASSEXW {
        cbSize: std::mem::size_of::<WNDCLASSEXW>() as u32,
        lpfnWndProc: Some(window_proc),
        hInstance: instance.into(),
        lpszClassName: PCWSTR(class.as_ptr()),
        ..Default::default()
    };
    // SAFETY: the class name outlives the call; registering twice (a
    // second session) fails harmlessly and the first class is used.
    let _ = unsafe { RegisterClassExW(&class_info) };
    // SAFETY: the strings outlive the call; a top-level popup with no
    // parent, menu or creation data.
    let window = unsafe {
        CreateWindowExW(
            WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE | WS_EX_LAYERED | WS_EX_TRANSPARENT,
            PCWSTR(class.as_ptr()),
            PCWSTR(title.as_ptr()),
            WS_POPUP,
            0,
            0,
            1,
            1,
            None,
            None,
            Some(instance.into()),
            None,
        )
    }
    .map_err(|e| window_error("CreateWindowExW", e))?;
    // SAFETY: a window this thread just made.
    unsafe {
        SetLayeredWindowAttributes(window, colour(KEY_RGB), 255, LWA_COLORKEY)
            .map_err(|e| window_error("SetLayeredWindowAttributes", e))?;
        if let Err(error) = SetWindowDisplayAffinity(window, WDA_EXCLUDEFROMCAPTURE) {
            tracing::info!(%error, "the annotation overlay cannot be left out of the capture");
        }
    }
    Ok(window)
}

fn apply(next: Command) {
    // The state is updated first and the borrow ends before any Win32
    // call, which may send messages to `window_proc` at once.
    let window = UI.with(|ui| {
        let mut ui = ui.borrow_mut();
        let ui = ui.as_mut()?;
        ui.shown = next.clone();
        Some(ui.window)
    });
    let Some(window) = window else {
        return;
    };
    // SAFETY: the window this thread owns.
    unsafe {
        match &next {
            None => {
                let _ = ShowWindow(window, SW_HIDE);
            }
            Some((_, display)) => {
                let keep_order = if visible(window) {
                    SWP_NOZORDER
                } else {
                    SET_WINDOW_POS_FLAGS(0)
                };
                let _ = SetWindowPos(
                    window,
                    Some(HWND_TOPMOST),
                    display.x,
                    display.y,
                    i32::try_from(display.width.max(1)).unwrap_or(i32::MAX),
                    i32::try_from(display.height.max(1)).unwrap_or(i32::MAX),
                    SWP_NOACTIVATE | SWP_SHOWWINDOW | keep_order,
                );
                let _ = InvalidateRect(Some(window), None, true);
            }
        }
    }
}

/// Paints the colour key everywhere, then the strokes.
fn paint(window: HWND) {
    let strokes = UI.with(|ui| {
        ui.borrow().as_ref().and_then(|ui| {
            ui.shown
                .as_ref()
                .map(|(strokes, d)| (strokes.clone(), d.clone()))
        })
    });
    let mut state = PAINTSTRUCT::default();
    // SAFETY: a BeginPaint/EndPaint pair on a window of this thread; each
    // GDI object made here is deselected and deleted before the end.
    unsafe {
        let dc = BeginPaint(window, &mut state);
        let key = CreateSolidBrush(colour(KEY_RGB));
        let whole = RECT {
            left: 0,
            top: 0,
            right: state.rcPaint.right.max(1),
            bottom: state.rcPaint.bottom.max(1),
        };
        if let Some((_, display)) = &strokes {
            let all = RECT {
                left: 0,
                top: 0,
                right: i32::try_from(display.width).unwrap_or(i32::MAX),
                bottom: i32::try_from(display.height).unwrap_or(i32::MAX),
            };
            FillRect(dc, &all, key);
        } else {
            FillRect(dc, &whole, key);
        }
        let _ = DeleteObject(HGDIOBJ(key.0));
        for stroke in strokes.iter().flat_map(|(s, _)| s.iter()) {
            let pen = CreatePen(
                PS_SOLID,
                i32::from(stroke.tool.width()),
                colour(stroke.tool.rgb()),
            );
            let old = SelectObject(dc, HGDIOBJ(pen.0));
            for ((x1, y1), (x2, y2)) in Sketch::segments(stroke) {
                let _ = MoveToEx(dc, x1, y1, None);
                let _ = LineTo(dc, x2, y2);
            }
            SelectObject(dc, old);
            let _ = DeleteObject(HGDIOBJ(pen.0));
        }
        let _ = EndPaint(window, &state);
    }
}

unsafe extern "system" fn window_proc(
    window: HWND,
    message: u32,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    match message {
        WM_PAINT => {
            paint(window);
            LRESULT(0)
        }
        // A click never takes the focus from the sharer's window.
        WM_MOUSEACTIVATE => LRESULT(MA_NOACTIVATE as isize),
        // SAFETY: the default handling of a message this procedure got.
        _ => unsafe { DefWindowProcW(window, message, wparam, lparam) },
    }
}
