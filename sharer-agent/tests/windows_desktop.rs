//! The Windows backends on a real Windows desktop: Wine on Xvfb, with
//! notepad open. The `windows` end-to-end suite (`tests/e2e/windows.rs`)
//! runs this binary under Wine, one test at a time, and checks on the X
//! side what these write to `TANDEM_WINE_OUT` (the captured screen, the
//! pointer position) and what Wine traced (the Event Log calls).
#![cfg(windows)]
// Win32 calls to look at what the agent did (the pointer, notepad).
#![allow(unsafe_code)]
// Helpers outside #[test] fns: a failed lookup is a failed test.
#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;
use tandem_agent::capture::{Capturer, Frame};
use tandem_agent::inject::{InjectError, Injector};
use tandem_agent::journal::{DeviceLog, Entry};
use tandem_agent::platform::windows::{
    EventLog, WindowsCapturer, WindowsInjector, monitors, normalized, state_dir,
};
use tandem_protocol::SessionId;
use tandem_protocol::input::{Button, Input, SpecialKeys};
use tandem_protocol::session::Mode;
use windows::Win32::Foundation::{HWND, LPARAM, POINT, RECT, WPARAM};
use windows::Win32::System::Diagnostics::Debug::{
    FORMAT_MESSAGE_ARGUMENT_ARRAY, FORMAT_MESSAGE_FROM_HMODULE, FORMAT_MESSAGE_IGNORE_INSERTS,
    FormatMessageW,
};
use windows::Win32::System::LibraryLoader::{
    LOAD_LIBRARY_AS_DATAFILE, LOAD_LIBRARY_AS_IMAGE_RESOURCE, LoadLibraryExW,
};
use windows::Win32::UI::WindowsAndMessaging::{
    FindWindowExW, FindWindowW, GetCursorPos, GetWindowRect, SendMessageW, SetForegroundWindow,
    WM_GETTEXT, WM_SETTEXT,
};
use windows::core::{HSTRING, PWSTR, w};

fn out_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("TANDEM_WINE_OUT").expect("TANDEM_WINE_OUT names a folder"))
}

fn pointer() -> (i32, i32) {
    let mut at = POINT::default();
    unsafe { GetCursorPos(&mut at) }.expect("GetCursorPos");
    (at.x, at.y)
}

#[test]
fn monitors_become_displays_primary_first() {
    let found = monitors();
    assert!(!found.is_empty(), "no monitor");
    assert!(found[0].display.primary);
    assert!(found[0].display.width >= 640 && found[0].display.height >= 480);
    assert!(
        found[0].device.starts_with(r"\\.\DISPLAY"),
        "{}",
        found[0].device
    );
}

#[test]
fn capture_falls_back_to_gdi_and_reads_the_whole_screen() {
    let mut capturer = WindowsCapturer::new().expect("a capturer");
    let mut frame = Frame::new(0, 0);
    let damage = capturer.capture(&mut frame).expect("a capture");
    // Wine 8 has no Desktop Duplication: the fallback is what runs here.
    assert_eq!(capturer.backend(), "gdi");
    let refused = capturer.dxgi_refused().unwrap_or_default().to_owned();
    assert!(!refused.is_empty(), "DXGI was refused, with a reason");
    println!("DXGI refused: {refused}");
    let (w, h) = capturer.size();
    assert_eq!((frame.width, frame.height), (w, h));
    assert_eq!(damage.len(), 1, "the first frame is all damage");
    assert_eq!(damage[0].height, h);
    // A still screen has no damage.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(capturer.capture(&mut frame).map(|d| d.len()).ok(), Some(0));
    let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = frame.rgb(x, y).unwrap_or_default();
            ppm.extend_from_slice(&[r, g, b]);
        }
    }
    std::fs::write(out_dir().join("screen.ppm"), ppm).expect("writes the capture");
}

#[test]
fn send_input_puts_the_pointer_on_the_pixel() {
    let mut injector = WindowsInjector::new().expect("an injector");
    let primary = monitors().remove(0).display;
    injector.set_display(&primary);
    let corners = [
        (0, 0),
        (primary.width - 1, primary.height - 1),
        (333, 222),
        (321, 234),
    ];
    for (x, y) in corners {
        injector.inject(&Input::Move { x, y }).expect("a move");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(pointer(), (x as i32, y as i32), "moved to ({x}, {y})");
    }
    std::fs::write(out_dir().join("pointer.txt"), "321 234").expect("writes the position");
}

/// SendInput's 0..65535 scale maps back, as Windows maps it
/// (`dx * size / 65536`), to the very pixel, on a virtual desktop that
/// starts left of and above the primary display.
#[test]
fn absolute_coordinates_round_trip_on_a_desktop_left_of_the_primary() {
    let desktop = (-1920, -120, 3840, 1200);
    for (x, y) in [(-1920, -120), (-1, 0), (0, 0), (1919, 1079), (-960, 500)] {
        let (dx, dy) = normalized(x, y, desktop);
        assert!(
            (0..65536).contains(&dx) && (0..65536).contains(&dy),
            "({x}, {y}) → ({dx}, {dy})"
        );
        let back = (
            -1920 + (i64::from(dx) * 3840 / 65536) as i32,
            -120 + (i64::from(dy) * 1200 / 65536) as i32,
        );
        assert_eq!(back, (x, y));
    }
    // Off the desktop: held at its edge.
    assert_eq!(
        normalized(5000, -5000, desktop),
        normalized(1919, -120, desktop)
    );
}

fn notepad_edit() -> (HWND, HWND) {
    for _ in 0..100 {
        if let Ok(window) = unsafe { FindWindowW(w!("Notepad"), None) }
            && let Ok(edit) = unsafe { FindWindowExW(Some(window), None, w!("Edit"), None) }
        {
            return (window, edit);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("notepad is not open");
}

fn text_of(edit: HWND) -> String {
    let mut buffer = [0u16; 512];
    let len = unsafe {
        SendMessageW(
            edit,
            WM_GETTEXT,
            Some(WPARAM(buffer.len())),
            Some(LPARAM(buffer.as_mut_ptr() as isize)),
        )
    };
    String::from_utf16_lossy(&buffer[..len.0.clamp(0, 512) as usize])
}

#[test]
fn clicks_keys_and_text_land_in_notepad() {
    let (window, edit) = notepad_edit();
    let empty = [0u16];
    unsafe {
        SendMessageW(
            edit,
            WM_SETTEXT,
            None,
            Some(LPARAM(empty.as_ptr() as isize)),
        )
    };
    let _ = unsafe { SetForegroundWindow(window) };
    let mut rect = RECT::default();
    unsafe { GetWindowRect(edit, &mut rect) }.expect("the edit box's place");
    let (x, y) = (
        ((rect.left + rect.right) / 2) as u32,
        ((rect.top + rect.bottom) / 2) as u32,
    );
    let mut injector = WindowsInjector::new().expect("an injector");
    injector.set_display(&monitors().remove(0).display);
    let click = |down| Input::Button {
        button: Button::Left,
        down,
        x,
        y,
    };
    let key = |code: &str, down| Input::Key {
        code: code.into(),
        down,
    };
    let script = [
        click(true),
        click(false),
        Input::Text {
            text: "Tandem ✓ héllo".into(),
        },
        key("Enter", true),
        key("Enter", false),
        key("ShiftLeft", true),
        key("KeyA", true),
        key("KeyA", false),
        key("ShiftLeft", false),
        key("KeyB", true),
        key("KeyB", false),
        key("Backspace", true),
        key("Backspace", false),
        key("Digit7", true),
        key("Digit7", false),
    ];
    for input in &script {
        injector.inject(input).expect("injected");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(text_of(edit), "Tandem ✓ héllo\r\nA7");
}

/// What the helper typed through a whole session (`TANDEM_WINE_EXPECT`)
/// reaches notepad.
#[test]
fn notepad_holds_what_the_helper_typed() {
    let expected = std::env::var("TANDEM_WINE_EXPECT").expect("TANDEM_WINE_EXPECT is set");
    assert!(!expected.is_empty(), "TANDEM_WINE_EXPECT names some text");
    let (_, edit) = notepad_edit();
    let mut text = text_of(edit);
    for _ in 0..100 {
        if text.contains(&expected) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
        text = text_of(edit);
    }
    panic!("notepad holds {text:?}, not {expected:?}");
}

#[test]
fn ctrl_alt_del_is_refused_without_the_service() {
    let mut injector = WindowsInjector::new().expect("an injector");
    let refused = injector.inject(&Input::Special {
        keys: SpecialKeys::CtrlAltDel,
    });
    assert!(
        matches!(refused, Err(InjectError::Unsupported(why)) if why.contains("SendSAS")),
        "{refused:?}"
    );
}

#[test]
fn session_start_and_end_go_to_the_event_log() {
    let log = EventLog::open();
    let session = SessionId("wine-session".into());
    let started = Entry::Started {
        session: session.clone(),
        helper: "Megan Bowen".into(),
        mode: Mode::Control,
    };
    let ended = Entry::Ended {
        session,
        helper: "Megan Bowen".into(),
        why: "the helper left".into(),
        elevated: false,
    };
    log.write(&started).unwrap();
    log.write(&ended).unwrap();
}

/// `tandem-agent.exe`, the source's EventMessageFile, holds a message for
/// every journal event that renders it as the agent wrote it, so Event
/// Viewer shows the text without a "description not found" preamble.
#[test]
fn the_agent_exe_renders_every_journal_event() {
    // Built on Linux, this names the exe by its Unix path: Wine's Z: drive.
    let exe = format!("Z:{}", env!("CARGO_BIN_EXE_tandem-agent")).replace('/', "\\");
    let module = unsafe {
        LoadLibraryExW(
            &HSTRING::from(exe.as_str()),
            None,
            LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE,
        )
    }
    .expect("the agent exe loads as a resource file");
    let session = SessionId("wine-session".into());
    let helper = String::from("Megan Bowen");
    let entries = [
        Entry::Started {
            session: session.clone(),
            helper: helper.clone(),
            mode: Mode::View,
        },
        Entry::ModeChanged {
            session: session.clone(),
            helper: helper.clone(),
            mode: Mode::Control,
        },
        Entry::Ended {
            session,
            helper,
            why: "the sharer left".into(),
            elevated: true,
        },
    ];
    for entry in &entries {
        let text = entry.text();
        let insert: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let arguments = [insert.as_ptr() as *const i8];
        let mut buffer = [0u16; 1024];
        let len = unsafe {
            FormatMessageW(
                FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                Some(module.0 as *const _),
                entry.event_id(),
                0,
                PWSTR(buffer.as_mut_ptr()),
                buffer.len() as u32,
                Some(arguments.as_ptr()),
            )
        };
        let shown = String::from_utf16_lossy(&buffer[..len as usize]);
        assert_eq!(shown.trim_end(), text, "event {}", entry.event_id());
    }
    // An id outside the table has no message.
    let mut small = [0u16; 16];
    let missing = unsafe {
        FormatMessageW(
            FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_IGNORE_INSERTS,
            Some(module.0 as *const _),
            99,
            0,
            PWSTR(small.as_mut_ptr()),
            small.len() as u32,
            None,
        )
    };
    assert_eq!(missing, 0);
}

/// `service install` keeps the device key where only SYSTEM and
/// Administrators can read it, including a key that was already there.
/// (Wine keeps no DACL on its Unix drive: it maps it onto the mode bits
/// and reads those back, so the e2e suite checks the bits too.)
#[test]
fn the_service_state_folder_is_for_system_and_administrators_only() {
    let dir = out_dir().join("service-state");
    std::fs::create_dir_all(&dir).expect("a folder");
    let key = dir.join("device.key");
    std::fs::write(&key, "secret").expect("a key file");
    let before = state_dir::dacl(&key).expect("its DACL");
    assert!(before.contains(";;;WD)"), "readable by everyone: {before}");
    state_dir::protect(&dir).expect("protected");
    for path in [&dir, &key] {
        let sddl = state_dir::dacl(path).expect("its DACL");
        println!("{}: {sddl}", path.display());
        assert!(sddl.contains(";FA;;;SY)"), "SYSTEM: {sddl}");
        for anyone in [";;;WD)", ";;;BU)", ";;;AU)"] {
            assert!(!sddl.contains(anyone), "{anyone} in {sddl}");
        }
    }
}

/// The Windows clipboard (`platform::clipboard`): the text X's CLIPBOARD
/// selection holds (`TANDEM_WINE_EXPECT`; Wine bridges the two) is read,
/// and text set here is what X then serves (checked on the X side).
#[test]
fn the_clipboard_reads_and_sets_text() {
    let expected = std::env::var("TANDEM_WINE_EXPECT").expect("TANDEM_WINE_EXPECT is set");
    let mut board = tandem_agent::platform::clipboard().expect("a clipboard");
    assert_eq!(
        board.read_text().expect("the clipboard reads"),
        Some(expected),
        "the text X holds"
    );
    board
        .write_text("from Windows: é€ ✓")
        .expect("the clipboard takes text");
    assert_eq!(
        board.read_text().expect("the clipboard reads"),
        Some("from Windows: é€ ✓".to_owned())
    );
}

/// The annotation overlay (`platform::overlay`): a pen stroke shows on the
/// screen where it was drawn (read back from the screen; Wine cannot leave
/// the window out of the capture, so it is there), the point under it
/// belongs to the window beneath (clicks go through), and it goes when
/// the strokes do.
#[test]
fn the_overlay_draws_strokes_that_clicks_go_through() {
    use tandem_protocol::annotation::{Sketch, Tool};
    use windows::Win32::Graphics::Gdi::{GetDC, GetPixel, ReleaseDC};
    use windows::Win32::UI::WindowsAndMessaging::WindowFromPoint;
    let display = monitors().remove(0).display;
    let pen = Tool::Pen.rgb();
    let bgr = ((pen & 0xff) << 16) | (pen & 0xff00) | ((pen >> 16) & 0xff);
    let screen_pixel = |x: i32, y: i32| {
        let dc = unsafe { GetDC(None) };
        let pixel = unsafe { GetPixel(dc, x, y) }.0;
        unsafe { ReleaseDC(None, dc) };
        pixel
    };
    let wait_for = |want: bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let seen = screen_pixel(250, 300);
            if (seen == bgr) == want {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the screen at (250, 300) is {seen:06x}, wanted {}{bgr:06x}",
                if want { "" } else { "anything but " }
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut overlay = tandem_agent::platform::overlay().expect("an overlay");
    let mut sketch = Sketch::default();
    sketch.add(
        1,
        Tool::Pen,
        &[(100, 300), (400, 300)],
        (display.width, display.height),
        0,
    );
    overlay.show(sketch.strokes(), &display).expect("shown");
    wait_for(true);
    let ours = unsafe { FindWindowW(w!("TandemAnnotation"), None) }.expect("the overlay window");
    let under = unsafe { WindowFromPoint(POINT { x: 250, y: 300 }) };
    assert_ne!(under, ours, "a click there goes to the window beneath");
    overlay.show(&[], &display).expect("hidden");
    wait_for(false);
}

/// Files from the helper (`files::Downloads`): they land in the profile's
/// Downloads folder under a safe name (a device name such as `CON` is
/// not one on Windows), a second of the same name is numbered and
/// replaces nothing, one not kept leaves no part file, and a kept one
/// opens by its absolute path to be sent back.
#[test]
fn received_files_land_in_the_profiles_downloads() {
    use tandem_agent::files::{Downloads, FileStore};
    use tandem_protocol::files::safe_file_name;
    let dir = tandem_agent::platform::downloads_dir().expect("a Downloads folder");
    let profile = std::env::var("USERPROFILE").expect("USERPROFILE is set");
    assert_eq!(dir, PathBuf::from(profile).join("Downloads"));
    let mut store = Downloads::of_user(Vec::new()).expect("the user's Downloads");
    let name = safe_file_name("CON");
    assert_eq!(name, "_CON");
    let mut first = store.receive(&name).expect("a part file");
    first.append(b"from the helper").expect("written");
    let kept = first.keep().expect("kept");
    let mut second = store.receive(&name).expect("a part file");
    second.append(b"again").expect("written");
    let numbered = second.keep().expect("kept");
    assert_eq!(numbered, format!("{kept} (1)"));
    let dropped = store.receive(&name).expect("a part file");
    drop(dropped);
    let path = dir.join(&kept);
    assert_eq!(
        std::fs::read(&path).expect("the kept file"),
        b"from the helper"
    );
    assert_eq!(
        std::fs::read(dir.join(&numbered)).expect("the second file"),
        b"again"
    );
    let mut opened = store
        .open(path.to_str().expect("a UTF-8 path"))
        .expect("opens by its path");
    assert_eq!(opened.size, 15);
    let mut buf = [0u8; 4];
    assert_eq!(opened.file.read_at(5, &mut buf).expect("read"), 4);
    assert_eq!(&buf, b"the ");
    drop(opened);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tandem-part"))
        .collect();
    assert!(left.is_empty(), "part files stayed: {left:?}");
    for name in [&kept, &numbered] {
        std::fs::remove_file(dir.join(name)).expect("removed");
    }
}

/// The device's windows (`platform::desktop_windows`), for sharing one:
/// Notepad is listed with its title, located where Windows says it is
/// (Wine has no DWM frame bounds, so its window rectangle), and a window
/// that is not there is gone.
#[test]
fn notepad_is_listed_and_located() {
    use windows::Win32::UI::WindowsAndMessaging::GetWindowRect;
    let (window, _) = notepad_edit();
    let mut windows = tandem_agent::platform::desktop_windows().expect("the window list");
    let id = window.0 as usize as u64;
    let listed = windows.list().expect("a list");
    let notepad = listed
        .iter()
        .find(|w| w.id == id)
        .unwrap_or_else(|| panic!("Notepad is not in {listed:?}"));
    assert!(notepad.title.contains("Notepad"), "{}", notepad.title);
    let mut rect = RECT::default();
    unsafe { GetWindowRect(window, &mut rect) }.expect("its rectangle");
    let presence = windows.locate(id).expect("located");
    let located = presence.located().expect("Notepad is shown");
    assert_eq!((located.rect.x, located.rect.y), (rect.left, rect.top));
    assert_eq!(
        (located.rect.width, located.rect.height),
        (
            (rect.right - rect.left) as u32,
            (rect.bottom - rect.top) as u32
        )
    );
    assert_eq!(
        windows.locate(0x7fff_fff0).expect("answers"),
        tandem_agent::window::Presence::Gone
    );
}
