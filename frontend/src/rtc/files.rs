//! The helper's side of file transfer on the `files` channel: one transfer
//! at a time, kept here (not in the tool's panel) so it goes on while the
//! panel is closed and resumes on the next connection's channel after a
//! drop. A file to the device is hashed first (SHA-256, read in slices),
//! offered, and sent in chunks from where the device says once the sharer
//! accepted, never more than [`BACKLOG`] ahead of the network. A file from
//! the device is hashed as it arrives and handed to the browser's download
//! only if the hash matches.

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::rc::Rc;
use tandem_protocol::files::{
    CHUNK_BYTES, Chunk, FileDirection, FileMessage, FileOutcome, hex, safe_file_name,
};
use tandem_protocol::tagged;
use wasm_bindgen::JsCast;
use web_sys::{RtcDataChannel, RtcDataChannelState};

/// File bytes the helper lets wait in the channel's buffer.
const BACKLOG: u32 = 1024 * 1024;
/// How much of a file is read at once.
const SLICE: f64 = 1024.0 * 1024.0;

/// Where a transfer is, as the tool shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Reading the file to hash it (bytes read).
    Checking,
    /// Waiting for the sharer's Accept.
    Asking,
    Moving,
    /// The connection dropped; it goes on when it is back.
    Waiting,
    /// Over: whether the file arrived whole, and what to say.
    Over {
        ok: bool,
        message: String,
    },
}

/// What the tool shows of the transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferView {
    pub id: u32,
    pub direction: FileDirection,
    pub name: String,
    pub size: u64,
    /// Confirmed so far: written on the device, or received here.
    pub bytes: u64,
    pub phase: Phase,
    /// When bytes started moving (ms, the page's clock), and how many had
    /// then: for speed and time left.
    pub since: Option<(f64, u64)>,
}

impl TransferView {
    /// "4.2 MB/s · 3 s left", once there is something to say.
    pub fn rate(&self, now_ms: f64) -> Option<String> {
        let (since, at_start) = self.since?;
        let seconds = (now_ms - since) / 1000.0;
        let moved = self.bytes.saturating_sub(at_start) as f64;
        if seconds < 0.2 || moved <= 0.0 {
            return None;
        }
        let speed = moved / seconds;
        let left = (self.size.saturating_sub(self.bytes)) as f64 / speed;
        Some(format!(
            "{}/s \u{b7} {} left",
            tandem_protocol::files::size_text(speed as u64),
            seconds_text(left)
        ))
    }
}

fn seconds_text(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

enum Body {
    /// To the device: the file, its hash, and which pump runs.
    Out {
        file: web_sys::File,
        sha256: String,
        pump: u32,
    },
    /// From the device: the pieces so far (JS memory, not WASM's) and their
    /// running hash.
    In {
        parts: js_sys::Array,
        hasher: Sha256,
    },
}

struct Transfer {
    view: TransferView,
    body: Body,
}

type Listener = Rc<dyn Fn(Option<TransferView>)>;

#[derive(Default)]
struct State {
    channel: Option<RtcDataChannel>,
    transfer: Option<Transfer>,
    next_id: u32,
    listener: Option<Listener>,
}

/// The transfers of one session (cheap to clone).
#[derive(Clone, Default)]
pub struct Files(Rc<RefCell<State>>);

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Bytes `start..end` of `file`.
async fn read(file: &web_sys::File, start: f64, end: f64) -> Option<Vec<u8>> {
    let blob = file.slice_with_f64_and_f64(start, end).ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

impl Files {
    /// The transfer now, for a panel that opens.
    pub fn view(&self) -> Option<TransferView> {
        self.0.borrow().transfer.as_ref().map(|t| t.view.clone())
    }

    /// `listener` hears every change from now on.
    pub fn listen(&self, listener: Listener) {
        self.0.borrow_mut().listener = Some(listener);
    }

    fn changed(&self) {
        let (listener, view) = {
            let state = self.0.borrow();
            (
                state.listener.clone(),
                state.transfer.as_ref().map(|t| t.view.clone()),
            )
        };
        if let Some(listener) = listener {
            listener(view);
        }
    }

    /// Whether a transfer is under way (a new one must wait).
    pub fn busy(&self) -> bool {
        self.view()
            .is_some_and(|v| !matches!(v.phase, Phase::Over { .. }))
    }

    /// A new connection's files channel: a transfer under way resumes.
    pub fn adopt(&self, channel: RtcDataChannel) {
        channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
        let resume = {
            let mut state = self.0.borrow_mut();
            state.channel = Some(channel);
            match &mut state.transfer {
                Some(t)
                    if matches!(t.view.phase, Phase::Moving | Phase::Waiting | Phase::Asking) =>
                {
                    if t.view.phase == Phase::Moving {
                        t.view.phase = Phase::Waiting;
                    }
                    let offset = match &t.body {
                        Body::In { .. } => t.view.bytes,
                        Body::Out { .. } => 0,
                    };
                    Some(FileMessage::Resume {
                        id: t.view.id,
                        offset,
                    })
                }
                _ => None,
            }
        };
        if let Some(resume) = resume {
            // Once open: the agent answers with where to go on.
            let files = self.clone();
            leptos::task::spawn_local(async move {
                for _ in 0..500 {
                    if files.send(&resume) {
                        break;
                    }
                    sleep(20).await;
                }
            });
            self.changed();
        }
    }

    fn open_channel(&self) -> Option<RtcDataChannel> {
        self.0
            .borrow()
            .channel
            .clone()
            .filter(|c| c.ready_state() == RtcDataChannelState::Open)
    }

    fn send(&self, message: &FileMessage) -> bool {
        let Some(channel) = self.open_channel() else {
            return false;
        };
        tagged::to_json(message)
            .ok()
            .is_some_and(|text| channel.send_with_str(&text).is_ok())
    }

    fn take_id(&self) -> u32 {
        let mut state = self.0.borrow_mut();
        if state.next_id == 0 {
            // Random, so an answer to an earlier page is never taken for
            // this one's.
            state.next_id = (js_sys::Math::random() * f64::from(u32::MAX / 2)) as u32 + 1;
        }
        state.next_id = state.next_id.wrapping_add(1).max(1);
        state.next_id
    }

    fn set_phase(&self, id: u32, phase: Phase) {
        if let Some(t) = self
            .0
            .borrow_mut()
            .transfer
            .as_mut()
            .filter(|t| t.view.id == id)
        {
            t.view.phase = phase;
        }
        self.changed();
    }

    fn end(&self, id: u32, ok: bool, message: String) {
        self.set_phase(id, Phase::Over { ok, message });
    }

    /// Sends `file` to the device: hashed, offered, then sent once the
    /// sharer accepts. `limit`: the organization's, in bytes.
    pub fn send_file(&self, file: web_sys::File, limit: u64) {
        if self.busy() {
            return;
        }
        let size = file.size() as u64;
        let id = self.take_id();
        let name = safe_file_name(&file.name());
        self.0.borrow_mut().transfer = Some(Transfer {
            view: TransferView {
                id,
                direction: FileDirection::ToDevice,
                name: name.clone(),
                size,
                bytes: 0,
                phase: Phase::Checking,
                since: None,
            },
            body: Body::Out {
                file: file.clone(),
                sha256: String::new(),
                pump: 0,
            },
        });
        if size > limit {
            self.end(id, false, FileOutcome::TooLarge { limit }.message());
            return;
        }
        self.changed();
        let files = self.clone();
        leptos::task::spawn_local(async move {
            let mut hasher = Sha256::new();
            let mut at = 0.0;
            while at < size as f64 {
                let end = (at + SLICE).min(size as f64);
                let Some(bytes) = read(&file, at, end).await else {
                    files.end(id, false, "Your browser could not read the file.".into());
                    return;
                };
                if !files.current(id) {
                    return;
                }
                hasher.update(&bytes);
                at = end;
            }
            // Cancelled (or replaced) while it was hashed: it goes no further.
            if !files.current(id) {
                return;
            }
            if let Some(Transfer {
                body: Body::Out { sha256, .. },
                ..
            }) = files
                .0
                .borrow_mut()
                .transfer
                .as_mut()
                .filter(|t| t.view.id == id)
            {
                *sha256 = hex(&hasher.finalize());
            }
            if files.send(&FileMessage::Offer { id, name, size }) {
                files.set_phase(id, Phase::Asking);
            } else {
                files.end(
                    id,
                    false,
                    "The connection to the device is not open.".into(),
                );
            }
        });
    }

    /// Asks the device for the file at `path`.
    pub fn request(&self, path: String) {
        if self.busy() {
            return;
        }
        let id = self.take_id();
        self.0.borrow_mut().transfer = Some(Transfer {
            view: TransferView {
                id,
                direction: FileDirection::FromDevice,
                name: safe_file_name(&path),
                size: 0,
                bytes: 0,
                phase: Phase::Asking,
                since: None,
            },
            body: Body::In {
                parts: js_sys::Array::new(),
                hasher: Sha256::new(),
            },
        });
        if !self.send(&FileMessage::Request { id, path }) {
            self.end(
                id,
                false,
                "The connection to the device is not open.".into(),
            );
            return;
        }
        self.changed();
    }

    /// Cancels the transfer under way.
    pub fn cancel(&self) {
        let Some(view) = self.view().filter(|_| self.busy()) else {
            return;
        };
        self.send(&FileMessage::Cancel { id: view.id });
        self.end(view.id, false, FileOutcome::CancelledByHelper.message());
    }

    /// Forgets a transfer that is over.
    pub fn clear(&self) {
        if !self.busy() {
            self.0.borrow_mut().transfer = None;
            self.changed();
        }
    }

    /// A message on the files channel.
    pub fn receive(&self, data: &wasm_bindgen::JsValue) {
        if let Some(text) = data.as_string() {
            match FileMessage::parse(text.as_bytes()) {
                Ok(message) => self.on_message(message),
                Err(error) => leptos::logging::warn!("files message dropped: {error}"),
            }
            return;
        }
        let bytes = js_sys::Uint8Array::new(data).to_vec();
        match Chunk::parse(&bytes) {
            Ok(chunk) => self.on_chunk(chunk),
            Err(error) => leptos::logging::warn!("file chunk dropped: {error}"),
        }
    }

    fn current(&self, id: u32) -> bool {
        self.0
            .borrow()
            .transfer
            .as_ref()
            .is_some_and(|t| t.view.id == id && !matches!(t.view.phase, Phase::Over { .. }))
    }

    fn on_message(&self, message: FileMessage) {
        let id = message.id();
        if !self.current(id) {
            return;
        }
        match message {
            FileMessage::Asking { name, size, .. } => {
                if let Some(t) = self.0.borrow_mut().transfer.as_mut() {
                    t.view.name = name;
                    t.view.size = size;
                    t.view.phase = Phase::Asking;
                }
                self.changed();
            }
            FileMessage::Go { offset, .. } => self.go(id, offset),
            FileMessage::Progress { bytes, .. } => {
                if let Some(t) = self.0.borrow_mut().transfer.as_mut() {
                    t.view.bytes = bytes.min(t.view.size);
                }
                self.changed();
            }
            FileMessage::End { sha256, .. } => self.on_end(id, sha256),
            FileMessage::Done { outcome, .. } => {
                let ok = matches!(outcome, FileOutcome::Saved { .. } | FileOutcome::Sent);
                if ok && let Some(t) = self.0.borrow_mut().transfer.as_mut() {
                    t.view.bytes = t.view.size;
                }
                match outcome {
                    // The download was offered already.
                    FileOutcome::Sent => {}
                    outcome => self.end(id, ok, outcome.message()),
                }
            }
            _ => {}
        }
    }

    /// The device says go on from `offset`.
    fn go(&self, id: u32, offset: u64) {
        let pump = {
            let mut state = self.0.borrow_mut();
            let Some(t) = state.transfer.as_mut() else {
                return;
            };
            t.view.phase = Phase::Moving;
            t.view.since = Some((now_ms(), offset));
            match &mut t.body {
                Body::Out { file, sha256, pump } => {
                    *pump += 1;
                    t.view.bytes = offset.min(t.view.size);
                    Some((file.clone(), sha256.clone(), *pump))
                }
                Body::In { .. } => None,
            }
        };
        self.changed();
        if let Some((file, sha256, pump)) = pump {
            let files = self.clone();
            leptos::task::spawn_local(async move {
                files.pump(id, file, sha256, pump, offset).await;
            });
        }
    }

    /// Whether pump `pump` of transfer `id` is still the one that runs.
    fn pumping(&self, id: u32, pump: u32) -> bool {
        self.0.borrow().transfer.as_ref().is_some_and(|t| {
            t.view.id == id
                && t.view.phase == Phase::Moving
                && matches!(t.body, Body::Out { pump: p, .. } if p == pump)
        })
    }

    async fn pump(&self, id: u32, file: web_sys::File, sha256: String, pump: u32, from: u64) {
        let size = file.size() as u64;
        let mut at = from;
        while at < size {
            if !self.pumping(id, pump) {
                return;
            }
            let Some(channel) = self.open_channel() else {
                // Cut: the next channel resumes it.
                return;
            };
            if channel.buffered_amount() > BACKLOG {
                sleep(5).await;
                continue;
            }
            let end = (at as f64 + SLICE / 4.0).min(size as f64);
            let Some(bytes) = read(&file, at as f64, end).await else {
                self.send(&FileMessage::Cancel { id });
                self.end(id, false, "Your browser could not read the file.".into());
                return;
            };
            if !self.pumping(id, pump) {
                return;
            }
            for piece in bytes.chunks(CHUNK_BYTES) {
                let chunk = Chunk {
                    id,
                    offset: at,
                    data: piece,
                }
                .encode();
                if channel.send_with_u8_array(&chunk).is_err() {
                    return;
                }
                at += piece.len() as u64;
            }
        }
        if self.pumping(id, pump) {
            self.send(&FileMessage::End { id, sha256 });
        }
    }

    fn on_chunk(&self, chunk: Chunk<'_>) {
        let mut state = self.0.borrow_mut();
        let Some(t) = state.transfer.as_mut().filter(|t| t.view.id == chunk.id) else {
            return;
        };
        let Body::In { parts, hasher } = &mut t.body else {
            return;
        };
        let len = chunk.data.len() as u64;
        if chunk.offset != t.view.bytes || t.view.bytes + len > t.view.size {
            return;
        }
        hasher.update(chunk.data);
        parts.push(&js_sys::Uint8Array::from(chunk.data));
        t.view.bytes += len;
        t.view.phase = Phase::Moving;
        let report = t.view.bytes == t.view.size || parts.length() % 16 == 0;
        drop(state);
        if report {
            self.changed();
        }
    }

    fn on_end(&self, id: u32, sha256: String) {
        let whole = {
            let mut state = self.0.borrow_mut();
            let Some(t) = state.transfer.as_mut() else {
                return;
            };
            let Body::In { parts, hasher } = &mut t.body else {
                return;
            };
            let hash = hex(&std::mem::take(hasher).finalize());
            (t.view.bytes == t.view.size && hash == sha256)
                .then(|| (parts.clone(), t.view.name.clone()))
        };
        let Some((parts, name)) = whole else {
            self.send(&FileMessage::Cancel { id });
            self.end(id, false, FileOutcome::Corrupted.message());
            return;
        };
        self.send(&FileMessage::Received { id });
        let message = match download(&parts, &name) {
            Some(()) => format!(
                "\u{201c}{name}\u{201d} arrived whole (SHA-256 checked) and went to your downloads."
            ),
            None => "The file arrived, but your browser refused to save it.".to_owned(),
        };
        self.end(id, true, message);
    }
}

/// Hands `parts` to the browser as a download called `name`.
fn download(parts: &js_sys::Array, name: &str) -> Option<()> {
    let blob = web_sys::Blob::new_with_u8_array_sequence(parts).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let document = web_sys::window()?.document()?;
    let link: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download holds its own reference; the URL may go once it began.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = web_sys::window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    Some(())
}
