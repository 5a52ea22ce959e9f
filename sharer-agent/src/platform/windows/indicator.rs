//! The sharing indicator on Windows: topmost layered tool windows that
//! never take the focus (`WS_EX_NOACTIVATE`). Four thin orange strips
//! along the edges of the shared monitor let clicks through
//! (`WS_EX_TRANSPARENT`); the bar at its top centre draws its text and its
//! two buttons itself and answers clicks with the pure layout's hit test.
//! Every window asks to be left out of screen capture
//! (`SetWindowDisplayAffinity(WDA_EXCLUDEFROMCAPTURE)`, Windows 10 2004
//! and later), so the helper's picture shows what is under it; where that
//! is refused (older Windows, Wine) it is logged and the indicator stays
//! in the picture. A thread of its own runs the windows' message loop; the
//! session's commands wake it with a thread message.

use super::wide;
use crate::indicator::{
    Area, BAR_RGB, BAR_TEXT_RGB, BORDER_RGB, Bar, Indicator, IndicatorError, Layout, PAUSE_RGB,
    PAUSE_TEXT_RGB, STOP_RGB, STOP_TEXT_RGB, TITLE, label,
};
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use tandem_protocol::agent::SharerAction;
use tokio::sync::mpsc;
use windows::Win32::Foundation::{COLORREF, HWND, LPARAM, LRESULT, RECT, SIZE, WPARAM};
use windows::Win32::Graphics::Gdi::{
    BeginPaint, CLEARTYPE_QUALITY, CLIP_DEFAULT_PRECIS, CreateCompatibleDC, CreateFontW,
    CreateSolidBrush, DEFAULT_CHARSET, DEFAULT_GUI_FONT, DT_CENTER, DT_SINGLELINE, DT_VCENTER,
    DeleteDC, DeleteObject, DrawTextW, EndPaint, FF_SWISS, FW_NORMAL, FillRect, GetStockObject,
    GetTextExtentPoint32W, HFONT, HGDIOBJ, InvalidateRect, OUT_DEFAULT_PRECIS, PAINTSTRUCT,
    SelectObject, SetBkMode, SetTextColor, TRANSPARENT, TextOutW,
};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::System::Threading::GetCurrentThreadId;
use windows::Win32::UI::WindowsAndMessaging::{
    CS_HREDRAW, CS_VREDRAW, CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW,
    GetMessageW, HWND_TOPMOST, IDC_ARROW, LWA_ALPHA, LoadCursorW, MA_NOACTIVATE, MSG, PM_NOREMOVE,
    PeekMessageW, PostThreadMessageW, RegisterClassExW, SW_HIDE, SWP_NOACTIVATE, SWP_NOMOVE,
    SWP_NOSIZE, SWP_SHOWWINDOW, SetLayeredWindowAttributes, SetTimer, SetWindowDisplayAffinity,
    SetWindowPos, ShowWindow, TranslateMessage, WDA_EXCLUDEFROMCAPTURE, WINDOW_EX_STYLE, WM_APP,
    WM_LBUTTONDOWN, WM_MOUSEACTIVATE, WM_PAINT, WM_QUIT, WM_TIMER, WNDCLASSEXW, WS_EX_LAYERED,
    WS_EX_NOACTIVATE, WS_EX_TOOLWINDOW, WS_EX_TOPMOST, WS_EX_TRANSPARENT, WS_POPUP,
};
use windows::core::PCWSTR;

/// The window class of every indicator window.
const CLASS: &str = "TandemSharingIndicator";
/// The thread message that says a command is waiting.
const WM_COMMAND_WAITING: u32 = WM_APP + 1;
/// The timer that puts the windows back on top every second.
const RAISE_TIMER: usize = 1;
/// The bar's text height in pixels.
const FONT_PX: i32 = 16;
/// How opaque the bar and the strips are (of 255).
const OPACITY: u8 = 240;

/// 0xRRGGBB as GDI's 0x00BBGGRR.
fn colour(rgb: u32) -> COLORREF {
    COLORREF(((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff))
}

fn window_error(what: &str, e: impl std::fmt::Display) -> IndicatorError {
    IndicatorError::Window(format!("{what}: {e}"))
}

/// The bar's font. GDI objects belong to the process, not to a thread: the
/// session measures text with it while the indicator's thread draws.
struct Font(HFONT);

// SAFETY: an HFONT is a process-wide GDI handle; it is only selected into
// DCs (read), and deleted once, when the last owner drops it.
unsafe impl Send for Font {}
// SAFETY: as above; no call mutates the font.
unsafe impl Sync for Font {}

impl Font {
    fn new() -> Self {
        let face = wide("Segoe UI");
        // SAFETY: the face name outlives the call.
        let font = unsafe {
            CreateFontW(
                -FONT_PX,
                0,
                0,
                0,
                FW_NORMAL.0 as i32,
                0,
                0,
                0,
                DEFAULT_CHARSET,
                OUT_DEFAULT_PRECIS,
                CLIP_DEFAULT_PRECIS,
                CLEARTYPE_QUALITY,
                FF_SWISS.0 as u32,
                PCWSTR(face.as_ptr()),
            )
        };
        if font.is_invalid() {
            // SAFETY: a stock object, never deleted (DeleteObject ignores it).
            return Self(HFONT(unsafe { GetStockObject(DEFAULT_GUI_FONT) }.0));
        }
        Self(font)
    }

    fn object(&self) -> HGDIOBJ {
        HGDIOBJ(self.0.0)
    }
}

impl Drop for Font {
    fn drop(&mut self) {
        // SAFETY: the last owner deletes it; a stock font is left alone by GDI.
        let _ = unsafe { DeleteObject(self.object()) };
    }
}

/// The indicator; its thread closes the windows when this is dropped.
pub struct WindowsIndicator {
    commands: std_mpsc::Sender<Option<(Bar, Layout)>>,
    thread: u32,
    font: Arc<Font>,
    screen: Area,
}

impl std::fmt::Debug for WindowsIndicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowsIndicator")
            .field("thread", &self.thread)
            .finish_non_exhaustive()
    }
}

impl WindowsIndicator {
    /// Starts the thread and makes the (hidden) windows.
    pub fn start(clicks: mpsc::Sender<SharerAction>) -> Result<Self, IndicatorError> {
        let font = Arc::new(Font::new());
        let (commands, received) = std_mpsc::channel();
        let (ready, started) = std_mpsc::sync_channel(1);
        let thread_font = font.clone();
        std::thread::Builder::new()
            .name("tandem-indicator".into())
            .spawn(move || ui_thread(&received, clicks, thread_font, &ready))
            .map_err(|e| IndicatorError::Thread(e.to_string()))?;
        let thread = started
            .recv()
            .map_err(|_| IndicatorError::Thread("the indicator's thread ended".into()))??;
        let screen = super::monitors()
            .first()
            .map(|m| Area::of(&m.display))
            .unwrap_or(Area {
                x: 0,
                y: 0,
                width: 1024,
                height: 768,
            });
        Ok(Self {
            commands,
            thread,
            font,
            screen,
        })
    }

    fn wake(&self, message: u32) {
        // SAFETY: a plain call; the thread made its queue before it said
        // it was ready.
        if let Err(error) =
            unsafe { PostThreadMessageW(self.thread, message, WPARAM(0), LPARAM(0)) }
        {
            tracing::debug!(%error, "the indicator's thread did not take a message");
        }
    }
}

impl Indicator for WindowsIndicator {
    fn measure(&self, text: &str) -> (u32, u32) {
        let text: Vec<u16> = text.encode_utf16().collect();
        let mut size = SIZE::default();
        // SAFETY: a memory DC made and deleted here; the font outlives it
        // and is deselected before the DC goes.
        unsafe {
            let dc = CreateCompatibleDC(None);
            let old = SelectObject(dc, self.font.object());
            let _ = GetTextExtentPoint32W(dc, &text, &mut size);
            SelectObject(dc, old);
            let _ = DeleteDC(dc);
        }
        (
            u32::try_from(size.cx).unwrap_or(0),
            u32::try_from(size.cy).unwrap_or(FONT_PX as u32),
        )
    }

    fn screen(&self) -> Area {
        self.screen
    }

    fn show(&mut self, shown: Option<(&Bar, &Layout)>) {
        let command = shown.map(|(bar, layout)| (bar.clone(), *layout));
        if self.commands.send(command).is_ok() {
            self.wake(WM_COMMAND_WAITING);
        }
    }
}

impl Drop for WindowsIndicator {
    fn drop(&mut self) {
        self.wake(WM_QUIT);
    }
}

/// What the window procedure needs, on the indicator's thread only.
struct Ui {
    bar_window: HWND,
    strips: [HWND; 4],
    font: Arc<Font>,
    clicks: mpsc::Sender<SharerAction>,
    shown: Option<(Bar, Layout)>,
}

thread_local! {
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

fn ui_thread(
    commands: &std_mpsc::Receiver<Option<(Bar, Layout)>>,
    clicks: mpsc::Sender<SharerAction>,
    font: Arc<Font>,
    ready: &std_mpsc::SyncSender<Result<u32, IndicatorError>>,
) {
    let made = make_windows();
    let (bar_window, strips) = match made {
        Ok(windows) => windows,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    UI.with(|ui| {
        *ui.borrow_mut() = Some(Ui {
            bar_window,
            strips,
            font,
            clicks,
            shown: None,
        });
    });
    let mut message = MSG::default();
    // SAFETY: makes this thread's message queue before anyone posts to it.
    let _ = unsafe { PeekMessageW(&mut message, None, 0, 0, PM_NOREMOVE) };
    // SAFETY: a plain call.
    let _ = ready.send(Ok(unsafe { GetCurrentThreadId() }));
    // SAFETY: `message` is a valid MSG for each call; GetMessageW returns
    // 0 on WM_QUIT and -1 on error, both of which end the loop.
    while unsafe { GetMessageW(&mut message, None, 0, 0) }.0 > 0 {
        if message.hwnd.is_invalid() && message.message == WM_COMMAND_WAITING {
            while let Ok(next) = commands.try_recv() {
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
    for window in strips.into_iter().chain([bar_window]) {
        // SAFETY: windows this thread made.
        let _ = unsafe { DestroyWindow(window) };
    }
}

/// Registers the class and makes the bar and the four strips, hidden.
fn make_windows() -> Result<(HWND, [HWND; 4]), IndicatorError> {
    let class = wide(CLASS);
    // SAFETY: the module of this process.
    let instance = unsafe { GetModuleHandleW(None) }.map_err(|e| window_error("module", e))?;
    let class_info = WNDCLASSEXW {
        cbSize: std::mem::size_of::<WNDCLASSEXW>() as u32,
        style: CS_HREDRAW | CS_VREDRAW,
        lpfnWndProc: Some(window_proc),
        hInstance: instance.into(),
        // SAFETY: a system cursor.
        hCursor: unsafe { LoadCursorW(None, IDC_ARROW) }.unwrap_or_default(),
        lpszClassName: PCWSTR(class.as_ptr()),
        ..Default::default()
    };
    // SAFETY: the class name outlives the call; registering twice (a
    // second session) fails harmlessly and the first class is used.
    let _ = unsafe { RegisterClassExW(&class_info) };
    let base = WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE | WS_EX_LAYERED;
    let make = |name: &str, extra: WINDOW_EX_STYLE| -> Result<HWND, IndicatorError> {
        let title = wide(name);
        // SAFETY: the strings outlive the call; a top-level popup with no
        // parent, menu or creation data.
        let window = unsafe {
            CreateWindowExW(
                base | extra,
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
            if let Err(error) = SetLayeredWindowAttributes(window, COLORREF(0), OPACITY, LWA_ALPHA)
            {
                tracing::debug!(%error, "the indicator stays opaque");
            }
            if let Err(error) = SetWindowDisplayAffinity(window, WDA_EXCLUDEFROMCAPTURE) {
                tracing::info!(%error, "the sharing indicator cannot be left out of the capture");
            }
        }
        Ok(window)
    };
    let bar = make(TITLE, WINDOW_EX_STYLE(0))?;
    let border = format!("{TITLE}: border");
    let strips = [
        make(&border, WS_EX_TRANSPARENT)?,
        make(&border, WS_EX_TRANSPARENT)?,
        make(&border, WS_EX_TRANSPARENT)?,
        make(&border, WS_EX_TRANSPARENT)?,
    ];
    // SAFETY: a timer on the bar, which this thread owns.
    unsafe { SetTimer(Some(bar), RAISE_TIMER, 1000, None) };
    Ok((bar, strips))
}

/// Shows, moves or hides the windows for the session's latest command.
fn apply(next: Option<(Bar, Layout)>) {
    // The state is updated first and the borrow ends before any Win32
    // call, which may send messages to `window_proc` at once.
    let windows = UI.with(|ui| {
        let mut ui = ui.borrow_mut();
        let ui = ui.as_mut()?;
        ui.shown = next.clone();
        Some((ui.bar_window, ui.strips))
    });
    let Some((bar_window, strips)) = windows else {
        return;
    };
    let place = |window: HWND, area: &Area| {
        // SAFETY: a window this thread owns.
        unsafe {
            let _ = SetWindowPos(
                window,
                Some(HWND_TOPMOST),
                area.x,
                area.y,
                area.width.max(1) as i32,
                area.height.max(1) as i32,
                SWP_NOACTIVATE | SWP_SHOWWINDOW,
            );
        }
    };
    // SAFETY (for the ShowWindow and InvalidateRect calls below): windows
    // this thread owns.
    match &next {
        None => {
            for window in strips.into_iter().chain([bar_window]) {
                let _ = unsafe { ShowWindow(window, SW_HIDE) };
            }
        }
        Some((bar, layout)) => {
            for (window, area) in strips.into_iter().zip(&layout.border) {
                if bar.border && area.width > 0 && area.height > 0 {
                    place(window, area);
                } else {
                    let _ = unsafe { ShowWindow(window, SW_HIDE) };
                }
            }
            place(bar_window, &layout.bar);
            let _ = unsafe { InvalidateRect(Some(bar_window), None, true) };
        }
    }
}

/// Puts every shown window back on top (another topmost window may have
/// come over it).
fn raise() {
    let windows = UI.with(|ui| ui.borrow().as_ref().map(|ui| (ui.bar_window, ui.strips)));
    if let Some((bar, strips)) = windows {
        for window in strips.into_iter().chain([bar]) {
            // SAFETY: a window this thread owns; only its z-order changes.
            let _ = unsafe {
                SetWindowPos(
                    window,
                    Some(HWND_TOPMOST),
                    0,
                    0,
                    0,
                    0,
                    SWP_NOMOVE | SWP_NOSIZE | SWP_NOACTIVATE,
                )
            };
        }
    }
}

fn rect(area: &Area) -> RECT {
    RECT {
        left: area.x,
        top: area.y,
        right: area.x + area.width as i32,
        bottom: area.y + area.height as i32,
    }
}

/// Paints `window`: the bar's text and buttons, or a strip's colour.
fn paint(window: HWND) {
    UI.with(|ui| {
        let Ok(ui) = ui.try_borrow() else { return };
        let Some(ui) = ui.as_ref() else { return };
        let mut paint = PAINTSTRUCT::default();
        // SAFETY: BeginPaint/EndPaint pair on a window of this thread;
        // brushes are deleted after use; the font is deselected before
        // EndPaint.
        unsafe {
            let dc = BeginPaint(window, &mut paint);
            let fill = |area: &Area, rgb: u32| {
                let brush = CreateSolidBrush(colour(rgb));
                FillRect(dc, &rect(area), brush);
                let _ = DeleteObject(brush.into());
            };
            match &ui.shown {
                Some((bar, layout)) if window == ui.bar_window => {
                    let whole = Area {
                        x: 0,
                        y: 0,
                        ..layout.bar
                    };
                    fill(&whole, BAR_RGB);
                    let old = SelectObject(dc, ui.font.object());
                    SetBkMode(dc, TRANSPARENT);
                    SetTextColor(dc, colour(BAR_TEXT_RGB));
                    let text: Vec<u16> = bar.text.encode_utf16().collect();
                    let _ = TextOutW(dc, layout.text.x, layout.text.y, &text);
                    for (i, area) in layout.buttons.iter().enumerate() {
                        let (back, fore) = if i == 0 {
                            (PAUSE_RGB, PAUSE_TEXT_RGB)
                        } else {
                            (STOP_RGB, STOP_TEXT_RGB)
                        };
                        fill(area, back);
                        SetTextColor(dc, colour(fore));
                        let mut text: Vec<u16> = label(bar.buttons[i]).encode_utf16().collect();
                        let mut inside = rect(area);
                        DrawTextW(
                            dc,
                            &mut text,
                            &mut inside,
                            DT_CENTER | DT_VCENTER | DT_SINGLELINE,
                        );
                    }
                    SelectObject(dc, old);
                }
                _ => fill(&area_of(paint.rcPaint), BORDER_RGB),
            }
            let _ = EndPaint(window, &paint);
        }
    });
}

fn area_of(r: RECT) -> Area {
    Area {
        x: r.left,
        y: r.top,
        width: (r.right - r.left).max(0) as u32,
        height: (r.bottom - r.top).max(0) as u32,
    }
}

/// The sharer clicked the bar at (`x`, `y`): one of its buttons, maybe.
fn clicked(window: HWND, x: i32, y: i32) {
    UI.with(|ui| {
        let Ok(ui) = ui.try_borrow() else { return };
        let Some(ui) = ui.as_ref() else { return };
        if window != ui.bar_window {
            return;
        }
        let Some((bar, layout)) = &ui.shown else {
            return;
        };
        if let Some(action) = layout.button_at(bar, x, y) {
            tracing::info!(?action, "the sharer pressed a button of the indicator");
            if ui.clicks.try_send(action).is_err() {
                tracing::warn!("a click on the indicator was dropped");
            }
        }
    });
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
        WM_LBUTTONDOWN => {
            // The low and high words are signed client coordinates.
            let x = i32::from(lparam.0 as u16 as i16);
            let y = i32::from((lparam.0 >> 16) as u16 as i16);
            clicked(window, x, y);
            LRESULT(0)
        }
        WM_TIMER if wparam.0 == RAISE_TIMER => {
            raise();
            LRESULT(0)
        }
        // SAFETY: the default handling of a message this procedure got.
        _ => unsafe { DefWindowProcW(window, message, wparam, lparam) },
    }
}
