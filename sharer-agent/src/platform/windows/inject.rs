//! SendInput: absolute pointer positions on the virtual desktop, buttons,
//! wheel, keys by scan code and Unicode text. Input runs on its own thread,
//! which moves to a secure desktop (a UAC prompt) only while that is
//! allowed; Ctrl+Alt+Del goes through `SendSAS`, which Windows accepts
//! only from a SYSTEM process (the agent's service).

use crate::inject::{InjectError, Injector};
use crate::platform::keymap;
use std::collections::HashSet;
use std::sync::mpsc;
use tandem_protocol::input::{Button, Display, Input, SpecialKeys};
use windows::Win32::UI::Input::KeyboardAndMouse::{
    INPUT, INPUT_0, INPUT_KEYBOARD, INPUT_MOUSE, KEYBD_EVENT_FLAGS, KEYBDINPUT,
    KEYEVENTF_EXTENDEDKEY, KEYEVENTF_KEYUP, KEYEVENTF_SCANCODE, KEYEVENTF_UNICODE,
    MAPVK_VSC_TO_VK_EX, MOUSE_EVENT_FLAGS, MOUSEEVENTF_ABSOLUTE, MOUSEEVENTF_HWHEEL,
    MOUSEEVENTF_LEFTDOWN, MOUSEEVENTF_LEFTUP, MOUSEEVENTF_MIDDLEDOWN, MOUSEEVENTF_MIDDLEUP,
    MOUSEEVENTF_MOVE, MOUSEEVENTF_RIGHTDOWN, MOUSEEVENTF_RIGHTUP, MOUSEEVENTF_VIRTUALDESK,
    MOUSEEVENTF_WHEEL, MOUSEEVENTF_XDOWN, MOUSEEVENTF_XUP, MOUSEINPUT, MapVirtualKeyW, SendInput,
    VIRTUAL_KEY,
};
use windows::Win32::UI::WindowsAndMessaging::{
    GetSystemMetrics, SM_CXVIRTUALSCREEN, SM_CYVIRTUALSCREEN, SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN,
};

/// One wheel notch.
const WHEEL_DELTA: i32 = 120;
const XBUTTON1: u32 = 1;
const XBUTTON2: u32 = 2;

enum Job {
    Send {
        inputs: Vec<INPUT>,
        follow_secure: bool,
        reply: mpsc::SyncSender<Result<(), InjectError>>,
    },
    SecureAttention(mpsc::SyncSender<Result<(), InjectError>>),
}

// SAFETY: INPUT is plain data (no pointers; dwExtraInfo is left 0).
unsafe impl Send for Job {}

pub struct WindowsInjector {
    jobs: mpsc::Sender<Job>,
    /// Set by the input thread when an event went to a secure desktop.
    secure_delivery: std::sync::Arc<std::sync::atomic::AtomicBool>,
    origin: (i32, i32),
    allow_secure: bool,
    held_keys: HashSet<(u16, bool)>,
    held_buttons: HashSet<Button>,
}

impl WindowsInjector {
    pub fn new() -> Result<Self, InjectError> {
        let (jobs, queue) = mpsc::channel();
        let secure_delivery = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let delivered = secure_delivery.clone();
        std::thread::Builder::new()
            .name("tandem-input".into())
            .spawn(move || input_thread(&queue, &delivered))
            .map_err(|e| InjectError::Failed(format!("cannot start the input thread: {e}")))?;
        Ok(Self {
            jobs,
            secure_delivery,
            origin: (0, 0),
            allow_secure: false,
            held_keys: HashSet::new(),
            held_buttons: HashSet::new(),
        })
    }

    fn run(
        &self,
        job: impl FnOnce(mpsc::SyncSender<Result<(), InjectError>>) -> Job,
    ) -> Result<(), InjectError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(job(reply))
            .map_err(|_| InjectError::Failed("the input thread stopped".into()))?;
        answer
            .recv()
            .map_err(|_| InjectError::Failed("the input thread stopped".into()))?
    }

    fn send(&self, inputs: Vec<INPUT>) -> Result<(), InjectError> {
        let follow_secure = self.allow_secure;
        self.run(|reply| Job::Send {
            inputs,
            follow_secure,
            reply,
        })
    }

    /// An absolute move to display pixel (x, y).
    fn move_input(&self, x: u32, y: u32) -> INPUT {
        let (dx, dy) = normalized(
            self.origin.0 + x as i32,
            self.origin.1 + y as i32,
            virtual_screen(),
        );
        mouse(
            dx,
            dy,
            0,
            MOUSEEVENTF_MOVE | MOUSEEVENTF_ABSOLUTE | MOUSEEVENTF_VIRTUALDESK,
        )
    }

    fn key(&mut self, scan: u16, extended: bool, down: bool) -> INPUT {
        if down {
            self.held_keys.insert((scan, extended));
        } else {
            self.held_keys.remove(&(scan, extended));
        }
        key_input(scan, extended, down)
    }
}

fn virtual_screen() -> (i32, i32, i32, i32) {
    // SAFETY: plain queries.
    unsafe {
        (
            GetSystemMetrics(SM_XVIRTUALSCREEN),
            GetSystemMetrics(SM_YVIRTUALSCREEN),
            GetSystemMetrics(SM_CXVIRTUALSCREEN).max(1),
            GetSystemMetrics(SM_CYVIRTUALSCREEN).max(1),
        )
    }
}

/// A virtual-desktop pixel → SendInput's 0..65535 scale. Windows maps
/// back with `dx * width / 65536`, so rounding up lands on the pixel.
pub fn normalized(x: i32, y: i32, (left, top, width, height): (i32, i32, i32, i32)) -> (i32, i32) {
    let scale = |p: i32, start: i32, size: i32| {
        let p = i64::from((p - start).clamp(0, size - 1));
        ((p * 65536 + i64::from(size) - 1) / i64::from(size)) as i32
    };
    (scale(x, left, width), scale(y, top, height))
}

fn mouse(dx: i32, dy: i32, data: u32, flags: MOUSE_EVENT_FLAGS) -> INPUT {
    INPUT {
        r#type: INPUT_MOUSE,
        Anonymous: INPUT_0 {
            mi: MOUSEINPUT {
                dx,
                dy,
                mouseData: data,
                dwFlags: flags,
                time: 0,
                dwExtraInfo: 0,
            },
        },
    }
}

fn keyboard(scan: u16, flags: KEYBD_EVENT_FLAGS) -> INPUT {
    INPUT {
        r#type: INPUT_KEYBOARD,
        Anonymous: INPUT_0 {
            ki: KEYBDINPUT {
                wScan: scan,
                dwFlags: flags,
                ..Default::default()
            },
        },
    }
}

/// A physical key by scan code. The virtual key is filled in too: Windows
/// ignores it when KEYEVENTF_SCANCODE is set, Wine needs it.
fn key_input(scan: u16, extended: bool, down: bool) -> INPUT {
    let mut flags = KEYEVENTF_SCANCODE;
    if extended {
        flags |= KEYEVENTF_EXTENDEDKEY;
    }
    if !down {
        flags |= KEYEVENTF_KEYUP;
    }
    let prefixed = u32::from(scan) | if extended { 0xe000 } else { 0 };
    // SAFETY: a plain lookup.
    let vk = unsafe { MapVirtualKeyW(prefixed, MAPVK_VSC_TO_VK_EX) };
    let mut input = keyboard(scan, flags);
    input.Anonymous.ki.wVk = VIRTUAL_KEY(vk as u16);
    input
}

fn button_flags(button: Button, down: bool) -> (MOUSE_EVENT_FLAGS, u32) {
    match (button, down) {
        (Button::Left, true) => (MOUSEEVENTF_LEFTDOWN, 0),
        (Button::Left, false) => (MOUSEEVENTF_LEFTUP, 0),
        (Button::Middle, true) => (MOUSEEVENTF_MIDDLEDOWN, 0),
        (Button::Middle, false) => (MOUSEEVENTF_MIDDLEUP, 0),
        (Button::Right, true) => (MOUSEEVENTF_RIGHTDOWN, 0),
        (Button::Right, false) => (MOUSEEVENTF_RIGHTUP, 0),
        (Button::Back, true) => (MOUSEEVENTF_XDOWN, XBUTTON1),
        (Button::Back, false) => (MOUSEEVENTF_XUP, XBUTTON1),
        (Button::Forward, true) => (MOUSEEVENTF_XDOWN, XBUTTON2),
        (Button::Forward, false) => (MOUSEEVENTF_XUP, XBUTTON2),
    }
}

/// Characters as Unicode key presses (any layout); line breaks as Enter.
fn text_inputs(text: &str) -> Vec<INPUT> {
    let mut inputs = Vec::new();
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            inputs.push(key_input(0x1c, false, true));
            inputs.push(key_input(0x1c, false, false));
            continue;
        }
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units).iter() {
            inputs.push(keyboard(*unit, KEYEVENTF_UNICODE));
            inputs.push(keyboard(*unit, KEYEVENTF_UNICODE | KEYEVENTF_KEYUP));
        }
    }
    inputs
}

impl Injector for WindowsInjector {
    fn inject(&mut self, input: &Input) -> Result<(), InjectError> {
        let inputs = match input {
            Input::Move { x, y } => vec![self.move_input(*x, *y)],
            Input::Button { button, down, x, y } => {
                if *down {
                    self.held_buttons.insert(*button);
                } else {
                    self.held_buttons.remove(button);
                }
                let (flags, data) = button_flags(*button, *down);
                vec![self.move_input(*x, *y), mouse(0, 0, data, flags)]
            }
            Input::Wheel { dx, dy, x, y } => {
                let mut inputs = vec![self.move_input(*x, *y)];
                if *dy != 0 {
                    // Positive dy scrolls down: a negative wheel delta.
                    let delta = dy.saturating_mul(-WHEEL_DELTA);
                    inputs.push(mouse(0, 0, delta as u32, MOUSEEVENTF_WHEEL));
                }
                if *dx != 0 {
                    let delta = dx.saturating_mul(WHEEL_DELTA);
                    inputs.push(mouse(0, 0, delta as u32, MOUSEEVENTF_HWHEEL));
                }
                inputs
            }
            Input::Key { code, down } => {
                let (scan, extended) = keymap::scan_code(code).ok_or(InjectError::UnknownKey)?;
                vec![self.key(scan, extended, *down)]
            }
            Input::Text { text } => text_inputs(text),
            Input::Special {
                keys: SpecialKeys::CtrlAltDel,
            } => {
                if !super::running_as_system() {
                    return Err(InjectError::Unsupported(
                        "Ctrl+Alt+Del needs the Tandem service on this device \
                         (Windows accepts it only through SendSAS from a service)",
                    ));
                }
                return self.run(Job::SecureAttention);
            }
            Input::Special { keys } => {
                let codes: Vec<(u16, bool)> = keys
                    .codes()
                    .iter()
                    .filter_map(|c| keymap::scan_code(c))
                    .collect();
                let mut inputs: Vec<INPUT> =
                    codes.iter().map(|&(s, e)| key_input(s, e, true)).collect();
                inputs.extend(codes.iter().rev().map(|&(s, e)| key_input(s, e, false)));
                inputs
            }
            Input::ReleaseAll => return self.release_all(),
            // A keep-alive: the gate above notes it, nothing to inject.
            Input::Held => return Ok(()),
        };
        self.send(inputs)
    }

    fn release_all(&mut self) -> Result<(), InjectError> {
        let mut inputs: Vec<INPUT> = std::mem::take(&mut self.held_keys)
            .into_iter()
            .map(|(scan, extended)| key_input(scan, extended, false))
            .collect();
        for button in std::mem::take(&mut self.held_buttons) {
            let (flags, data) = button_flags(button, false);
            inputs.push(mouse(0, 0, data, flags));
        }
        if inputs.is_empty() {
            return Ok(());
        }
        self.send(inputs)
    }

    fn set_display(&mut self, display: &Display) {
        self.origin = (display.x, display.y);
    }

    fn allow_secure_desktop(&mut self, allowed: bool) {
        self.allow_secure = allowed;
    }

    fn take_secure_delivery(&mut self) -> bool {
        self.secure_delivery
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }
}

/// The input thread: follows the input desktop when allowed (or back to
/// the normal one), then sends.
fn input_thread(queue: &mpsc::Receiver<Job>, secure_delivery: &std::sync::atomic::AtomicBool) {
    use super::desktop;
    while let Ok(job) = queue.recv() {
        match job {
            Job::Send {
                inputs,
                follow_secure,
                reply,
            } => {
                let input = desktop::input_desktop();
                let here = matches!(&input, desktop::InputDesktop::Named(n)
                    if Some(n) == desktop::thread_desktop().as_ref());
                if !here
                    && (input.is_default() || follow_secure)
                    && let Err(error) = desktop::follow_input()
                {
                    tracing::debug!(%error, "input stays on its desktop");
                }
                let result = if !input.is_default() && !follow_secure {
                    Err(InjectError::Failed(
                        "a secure desktop has the input; the sharer must answer it".into(),
                    ))
                } else {
                    // SAFETY: a slice of initialised INPUTs and their size.
                    let sent = unsafe { SendInput(&inputs, std::mem::size_of::<INPUT>() as i32) };
                    if sent as usize == inputs.len() {
                        // On a secure desktop (a UAC prompt) for the
                        // helper: elevation was used.
                        // The thread must be on that desktop, or the event
                        // went nowhere near the prompt.
                        let on_secure = !input.is_default()
                            && matches!(&input, desktop::InputDesktop::Named(n)
                                if Some(n) == desktop::thread_desktop().as_ref());
                        if on_secure {
                            secure_delivery.store(true, std::sync::atomic::Ordering::Release);
                        }
                        Ok(())
                    } else {
                        Err(InjectError::Failed(format!(
                            "SendInput took {sent} of {} events: {}",
                            inputs.len(),
                            windows::core::Error::from_thread()
                        )))
                    }
                };
                let _ = reply.send(result);
            }
            Job::SecureAttention(reply) => {
                // SAFETY: no arguments beyond "as a service".
                unsafe { windows::Win32::Security::Authentication::Identity::SendSAS(false) };
                let _ = reply.send(Ok(()));
            }
        }
    }
}
