//! The signaling WebSocket, typed with `tandem_protocol::signal`. It joins
//! the session, answers pings, treats a silent server as gone, and
//! reconnects with backoff until it is closed on purpose.

use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::SessionId;
use tandem_protocol::signal::{
    ClientMessage, DEAD_AFTER_SECONDS, PING_EVERY_SECONDS, ServerMessage,
};
use tandem_protocol::tagged;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// The connection as the page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Open,
    /// Lost; trying again.
    Retrying,
    Closed,
}

type Handler = Rc<dyn Fn(ServerMessage)>;
type LinkHandler = Rc<dyn Fn(Link)>;

/// How long a new socket may take to open before another is tried.
const CONNECT_TIMEOUT_MILLIS: f64 = 10_000.0;

struct Inner {
    session: SessionId,
    socket: Option<WebSocket>,
    on_message: Handler,
    on_link: LinkHandler,
    closed: bool,
    attempts: u32,
    last_heard: f64,
    /// The media connection is down: a server silent past one ping (and
    /// some slack) is taken as a dead socket, not only after the heartbeat.
    media_down: bool,
    /// When the current socket started connecting.
    opened_at: f64,
    // Kept alive as long as the socket they belong to.
    callbacks: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    watchdog: Option<i32>,
}

/// How long the server may be silent before its socket is taken as dead:
/// the heartbeat, or, while the media connection is down, one ping period
/// and 2 s of slack. (At two periods, the picture came back 31 s after the
/// helper's address changed instead of 15 s, in the network suite: the
/// ICE restart came later, and the connection then stayed on its dead
/// path for about 30 s.)
pub fn silence_allowed_millis(media_down: bool) -> f64 {
    let seconds = if media_down {
        PING_EVERY_SECONDS as f64 + 2.0
    } else {
        DEAD_AFTER_SECONDS as f64
    };
    seconds * 1000.0
}

/// A live signaling connection; dropping it does not close it, `close` does.
#[derive(Clone)]
pub struct Signal {
    inner: Rc<RefCell<Inner>>,
}

fn url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_default();
    let secure = location
        .and_then(|l| l.protocol().ok())
        .is_some_and(|p| p == "https:");
    let scheme = if secure { "wss" } else { "ws" };
    format!("{scheme}://{host}{}", tandem_protocol::routes::SIGNAL)
}

fn now() -> f64 {
    js_sys::Date::now()
}

impl Signal {
    /// Connects and joins `session`.
    pub fn connect(
        session: SessionId,
        on_message: impl Fn(ServerMessage) + 'static,
        on_link: impl Fn(Link) + 'static,
    ) -> Self {
        let signal = Signal {
            inner: Rc::new(RefCell::new(Inner {
                session,
                socket: None,
                on_message: Rc::new(on_message),
                on_link: Rc::new(on_link),
                closed: false,
                attempts: 0,
                last_heard: now(),
                media_down: false,
                opened_at: now(),
                callbacks: Vec::new(),
                watchdog: None,
            })),
        };
        signal.open();
        signal.start_watchdog();
        signal
    }

    fn open(&self) {
        let link = self.inner.borrow().on_link.clone();
        link(Link::Connecting);
        let Ok(socket) = WebSocket::new(&url()) else {
            self.retry();
            return;
        };
        self.inner.borrow_mut().opened_at = now();
        let weak = Rc::downgrade(&self.inner);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |_| {
                let Some(inner) = weak.upgrade() else { return };
                let signal = Signal { inner };
                signal.inner.borrow_mut().attempts = 0;
                signal.inner.borrow_mut().last_heard = now();
                let session = signal.inner.borrow().session.clone();
                signal.send(&ClientMessage::Join { session });
                let link = signal.inner.borrow().on_link.clone();
                link(Link::Open);
            }
        });
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new({
            let weak = weak.clone();
            move |event: web_sys::Event| {
                let Some(inner) = weak.upgrade() else { return };
                let signal = Signal { inner };
                signal.inner.borrow_mut().last_heard = now();
                let Some(text) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                match tagged::from_json::<ServerMessage>(text.as_bytes()) {
                    Ok(ServerMessage::Ping { nonce }) => {
                        signal.send(&ClientMessage::Pong { nonce });
                    }
                    Ok(message) => {
                        let handler = signal.inner.borrow().on_message.clone();
                        handler(message);
                    }
                    Err(error) => leptos::logging::warn!("unreadable signaling message: {error}"),
                }
            }
        });
        let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            let Some(inner) = weak.upgrade() else { return };
            let code = event.dyn_ref::<CloseEvent>().map(CloseEvent::code);
            leptos::logging::log!("signaling closed ({code:?})");
            Signal { inner }.retry();
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut inner = self.inner.borrow_mut();
        inner.callbacks = vec![on_open, on_message, on_close];
        inner.socket = Some(socket);
    }

    fn retry(&self) {
        let (closed, attempts, link) = {
            let mut inner = self.inner.borrow_mut();
            inner.socket = None;
            inner.attempts += 1;
            (inner.closed, inner.attempts, inner.on_link.clone())
        };
        if closed {
            link(Link::Closed);
            return;
        }
        link(Link::Retrying);
        // 0.5 s, 1 s, 2 s … up to 5 s: well inside the reconnect window.
        let delay = (250 * 2_i32.saturating_pow(attempts.min(5))).min(5_000);
        let weak = Rc::downgrade(&self.inner);
        let again = Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                Signal { inner }.open();
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                again.unchecked_ref(),
                delay,
            );
        }
    }

    /// Closes the socket if the server has been silent too long.
    fn start_watchdog(&self) {
        let weak = Rc::downgrade(&self.inner);
        let check = Closure::<dyn FnMut()>::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            let (socket, stale, stuck) = {
                let i = inner.borrow();
                let connecting = i
                    .socket
                    .as_ref()
                    .is_some_and(|s| s.ready_state() == WebSocket::CONNECTING);
                (
                    i.socket.clone(),
                    now() - i.last_heard > silence_allowed_millis(i.media_down),
                    // A connection attempt over a dead network waits on TCP's
                    // own retries, for minutes: give it up sooner.
                    connecting && now() - i.opened_at > CONNECT_TIMEOUT_MILLIS,
                )
            };
            if (stale || stuck)
                && let Some(socket) = socket
            {
                inner.borrow_mut().last_heard = now();
                // Over a dead network the closing handshake can take
                // minutes: leave that socket to it and try a new one now.
                socket.set_onopen(None);
                socket.set_onmessage(None);
                socket.set_onclose(None);
                let _ = socket.close();
                Signal { inner }.retry();
            }
        });
        if let Some(window) = web_sys::window()
            && let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(
                check.as_ref().unchecked_ref(),
                5_000,
            )
        {
            self.inner.borrow_mut().watchdog = Some(id);
        }
        check.forget();
    }

    /// Whether the media connection is down. While it is, the socket is
    /// given up once the server has missed a ping: after the network
    /// changes under the page, the socket is as dead as the media, and
    /// joining again sooner brings both back sooner.
    pub fn set_media_down(&self, down: bool) {
        self.inner.borrow_mut().media_down = down;
    }

    /// Sends a message if the socket is open (signaling is best effort:
    /// the session state lives on the server).
    pub fn send(&self, message: &ClientMessage) {
        let Some(socket) = self.inner.borrow().socket.clone() else {
            return;
        };
        if socket.ready_state() != WebSocket::OPEN {
            return;
        }
        if let Ok(text) = tagged::to_json(message) {
            let _ = socket.send_with_str(&text);
        }
    }

    /// Closes for good (the page is left, or the session ended).
    pub fn close(&self) {
        let (socket, watchdog) = {
            let mut inner = self.inner.borrow_mut();
            inner.closed = true;
            (inner.socket.take(), inner.watchdog.take())
        };
        if let (Some(window), Some(id)) = (web_sys::window(), watchdog) {
            window.clear_interval_with_handle(id);
        }
        if let Some(socket) = socket {
            let _ = socket.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::silence_allowed_millis;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_silent_server_is_given_up_sooner_while_the_media_is_down() {
        assert_eq!(silence_allowed_millis(false), 15_000.0);
        assert_eq!(silence_allowed_millis(true), 7_000.0);
    }
}
