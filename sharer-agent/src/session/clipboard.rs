//! Clipboard text between the helper and this device. `ClipboardDesk` is
//! pure: it takes the helper's messages and the worker's answers and says
//! what to do, only while the gate allows input (full control) and the
//! tenant allows the clipboard (its limit comes in the session view). One
//! request at a time; a `Get` at most every [`GET_EVERY`]; anything else is
//! dropped and counted. The `Session` part carries the steps out.

use super::Session;
use crate::clipboard::{ClipboardDone, ClipboardWorker};
use crate::gate::Status;
use std::time::{Duration, Instant};
use tandem_protocol::clipboard::{
    Assembly, AssemblyError, ClipboardDirection, ClipboardMessage, ClipboardOutcome, pieces,
};

/// The least time between two reads of the device's clipboard.
pub const GET_EVERY: Duration = Duration::from_millis(500);

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing (a piece taken, or a message dropped).
    Nothing,
    /// Answer the helper.
    Reply(ClipboardMessage),
    /// Put the text on the device's clipboard.
    Write { id: u32, text: String },
    /// Read the device's clipboard.
    Read { id: u32 },
}

/// What came of a worker's answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub replies: Vec<ClipboardMessage>,
    /// Counted, told to the server and shown to the sharer.
    pub used: Option<(ClipboardDirection, usize)>,
}

#[derive(Debug, Default)]
pub struct ClipboardDesk {
    /// The tenant's limit, while it allows the clipboard.
    limit: Option<u32>,
    incoming: Option<Assembly>,
    /// A Put whose pieces are refused (over the limit), until its last.
    refusing: Option<u32>,
    /// The request the worker is on.
    busy: Option<u32>,
    last_get: Option<Instant>,
    /// Messages dropped: malformed, the wrong way, too fast, out of order.
    pub dropped: u64,
}

fn done(id: u32, outcome: ClipboardOutcome) -> Step {
    Step::Reply(ClipboardMessage::Done { id, outcome })
}

impl ClipboardDesk {
    /// A new connection: whatever a cut-off request left goes.
    pub fn reset(&mut self) {
        self.incoming = None;
        self.refusing = None;
    }

    pub fn set_limit(&mut self, limit: Option<u32>) {
        self.limit = limit;
        if limit.is_none() {
            self.incoming = None;
        }
    }

    /// A message from the helper; `allowed`: the gate allows input now.
    pub fn on_message(&mut self, bytes: &[u8], allowed: bool, now: Instant) -> Step {
        let Ok(message) = ClipboardMessage::parse(bytes) else {
            self.dropped += 1;
            return Step::Nothing;
        };
        let limit = self.limit.filter(|_| allowed);
        match message {
            ClipboardMessage::Put {
                id,
                total,
                text,
                last,
            } => {
                if self.refusing == Some(id) {
                    if last {
                        self.refusing = None;
                    }
                    return Step::Nothing;
                }
                let Some(limit) = limit else {
                    self.incoming = None;
                    return self.refuse_put(id, last, ClipboardOutcome::NotAllowed);
                };
                if self.busy.is_some() && self.incoming.is_none() {
                    return self.refuse_put(id, last, ClipboardOutcome::NotAllowed);
                }
                let assembly = match self.incoming.take() {
                    Some(assembly) if assembly.id() == id => assembly,
                    Some(_) => {
                        self.dropped += 1;
                        return self.refuse_put(id, last, ClipboardOutcome::NotAllowed);
                    }
                    None => match Assembly::start(id, total, limit) {
                        Ok(assembly) => assembly,
                        Err(_) => {
                            return self.refuse_put(id, last, ClipboardOutcome::TooLarge { limit });
                        }
                    },
                };
                let mut assembly = assembly;
                match assembly.push(id, total, &text, last) {
                    Ok(Some(text)) => {
                        self.busy = Some(id);
                        Step::Write { id, text }
                    }
                    Ok(None) => {
                        self.incoming = Some(assembly);
                        Step::Nothing
                    }
                    Err(error) => {
                        self.dropped += 1;
                        let outcome = match error {
                            AssemblyError::TooLarge => ClipboardOutcome::TooLarge { limit },
                            AssemblyError::OutOfOrder => ClipboardOutcome::Failed,
                        };
                        self.refuse_put(id, last, outcome)
                    }
                }
            }
            ClipboardMessage::Get { id } => {
                if limit.is_none() || self.busy.is_some() || self.incoming.is_some() {
                    return done(id, ClipboardOutcome::NotAllowed);
                }
                if self
                    .last_get
                    .is_some_and(|at| now.saturating_duration_since(at) < GET_EVERY)
                {
                    self.dropped += 1;
                    return done(id, ClipboardOutcome::NotAllowed);
                }
                self.last_get = Some(now);
                self.busy = Some(id);
                Step::Read { id }
            }
            // The device's to send, never the helper's.
            ClipboardMessage::Content { .. } | ClipboardMessage::Done { .. } => {
                self.dropped += 1;
                Step::Nothing
            }
        }
    }

    /// Refuses Put `id`: at once, and its later pieces silently.
    fn refuse_put(&mut self, id: u32, last: bool, outcome: ClipboardOutcome) -> Step {
        if !last {
            self.refusing = Some(id);
        }
        done(id, outcome)
    }

    /// The worker's answer; `allowed`: the gate still allows input.
    pub fn on_done(&mut self, answer: ClipboardDone, allowed: bool) -> Answer {
        let id = match &answer {
            ClipboardDone::Written { id, .. } | ClipboardDone::Read { id, .. } => *id,
        };
        if self.busy == Some(id) {
            self.busy = None;
        }
        let reply = |outcome| vec![ClipboardMessage::Done { id, outcome }];
        let nothing = |outcome| Answer {
            replies: reply(outcome),
            used: None,
        };
        match answer {
            ClipboardDone::Written { result: Ok(()), .. } => Answer {
                replies: reply(ClipboardOutcome::Set),
                used: Some((ClipboardDirection::ToDevice, 0)),
            },
            ClipboardDone::Written {
                result: Err(error), ..
            }
            | ClipboardDone::Read {
                result: Err(error), ..
            } => {
                tracing::warn!(%error, "the clipboard failed");
                nothing(ClipboardOutcome::Failed)
            }
            // Control ended while the clipboard was read: nothing leaves.
            ClipboardDone::Read { .. } if !allowed || self.limit.is_none() => {
                nothing(ClipboardOutcome::NotAllowed)
            }
            ClipboardDone::Read {
                result: Ok(None), ..
            } => Answer {
                replies: reply(ClipboardOutcome::Empty),
                used: Some((ClipboardDirection::FromDevice, 0)),
            },
            ClipboardDone::Read {
                result: Ok(Some(text)),
                ..
            } => {
                // The channel refuses NUL; it ends text in most programs.
                let text = text.replace('\0', "");
                let limit = self.limit.unwrap_or(0);
                let Ok(total) = u32::try_from(text.len()) else {
                    return nothing(ClipboardOutcome::TooLarge { limit });
                };
                if total > limit {
                    return nothing(ClipboardOutcome::TooLarge { limit });
                }
                let mut replies: Vec<ClipboardMessage> = pieces(&text)
                    .into_iter()
                    .map(|(text, last)| ClipboardMessage::Content {
                        id,
                        total,
                        text,
                        last,
                    })
                    .collect();
                replies.push(ClipboardMessage::Done {
                    id,
                    outcome: ClipboardOutcome::Sent,
                });
                Answer {
                    replies,
                    used: Some((ClipboardDirection::FromDevice, text.chars().count())),
                }
            }
        }
    }
}

impl Session {
    /// A message on the clipboard channel.
    pub(super) async fn on_clipboard(&mut self, bytes: &[u8]) {
        let allowed = self.gate.input_allowed(crate::client::now());
        match self.clipboard.on_message(bytes, allowed, Instant::now()) {
            Step::Nothing => {}
            Step::Reply(message) => self.send_clipboard(&message).await,
            Step::Write { id, text } => {
                let chars = text.chars().count();
                if !self.clipboard_worker().write(id, text) {
                    let failed = ClipboardOutcome::Failed;
                    let answer = ClipboardDone::Written {
                        id,
                        result: Err(crate::clipboard::ClipboardError::Unavailable(
                            failed.message(),
                        )),
                    };
                    self.on_clipboard_done(answer).await;
                } else {
                    tracing::debug!(chars, "putting the helper's text on the clipboard");
                }
            }
            Step::Read { id } => {
                if !self.clipboard_worker().read(id) {
                    let answer = ClipboardDone::Read {
                        id,
                        result: Err(crate::clipboard::ClipboardError::Unavailable(
                            "the clipboard thread is gone".into(),
                        )),
                    };
                    self.on_clipboard_done(answer).await;
                }
            }
        }
    }

    /// The worker's answer: replies to the helper, and a use to report.
    pub(super) async fn on_clipboard_done(&mut self, answer: ClipboardDone) {
        let allowed = self.gate.input_allowed(crate::client::now());
        let Answer { replies, used } = self.clipboard.on_done(answer, allowed);
        for reply in &replies {
            self.send_clipboard(reply).await;
        }
        if let Some((direction, chars)) = used {
            let helper = match self.gate.status(crate::client::now()) {
                Status::Shared { helper, .. } | Status::Paused { helper } => helper,
                _ => "The helper".to_owned(),
            };
            match direction {
                ClipboardDirection::ToDevice => {
                    println!("tandem-agent: {helper} put text on your clipboard");
                }
                ClipboardDirection::FromDevice => {
                    println!("tandem-agent: {helper} read your clipboard ({chars} characters)");
                }
            }
            self.clipboard_unreported.push(direction);
        }
    }

    fn clipboard_worker(&mut self) -> &ClipboardWorker {
        let done = self.clipboard_done_tx.clone();
        self.clipboard_worker
            .get_or_insert_with(|| ClipboardWorker::start(crate::platform::clipboard, done))
    }

    async fn send_clipboard(&self, message: &ClipboardMessage) {
        if let Some(live) = &self.live {
            live.peer.send_clipboard(message).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clipboard::ClipboardError;

    fn bytes(message: &ClipboardMessage) -> Vec<u8> {
        serde_json::to_vec(message).unwrap()
    }

    fn put(id: u32, text: &str) -> Vec<Vec<u8>> {
        let total = text.len() as u32;
        pieces(text)
            .into_iter()
            .map(|(text, last)| {
                bytes(&ClipboardMessage::Put {
                    id,
                    total,
                    text,
                    last,
                })
            })
            .collect()
    }

    fn desk(limit: u32) -> ClipboardDesk {
        let mut desk = ClipboardDesk::default();
        desk.set_limit(Some(limit));
        desk
    }

    #[test]
    fn a_put_in_pieces_writes_once_whole_and_reports_it() {
        let mut desk = desk(1 << 20);
        let text = "ü".repeat(20_000);
        let now = Instant::now();
        let steps: Vec<Step> = put(1, &text)
            .iter()
            .map(|b| desk.on_message(b, true, now))
            .collect();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0], Step::Nothing);
        assert_eq!(
            steps[2],
            Step::Write {
                id: 1,
                text: text.clone()
            }
        );
        // A Get while the write is under way is refused.
        let get = bytes(&ClipboardMessage::Get { id: 2 });
        assert!(matches!(desk.on_message(&get, true, now), Step::Reply(_)));
        let answer = desk.on_done(
            ClipboardDone::Written {
                id: 1,
                result: Ok(()),
            },
            true,
        );
        assert_eq!(answer.used, Some((ClipboardDirection::ToDevice, 0)));
        assert_eq!(
            answer.replies,
            vec![ClipboardMessage::Done {
                id: 1,
                outcome: ClipboardOutcome::Set
            }]
        );
    }

    #[test]
    fn nothing_without_control_or_the_tenant_s_consent() {
        let now = Instant::now();
        let get = bytes(&ClipboardMessage::Get { id: 1 });
        let refused = Step::Reply(ClipboardMessage::Done {
            id: 1,
            outcome: ClipboardOutcome::NotAllowed,
        });
        let mut off = ClipboardDesk::default();
        assert_eq!(off.on_message(&get, true, now), refused);
        let mut on = desk(4096);
        assert_eq!(on.on_message(&get, false, now), refused, "view only");
        for b in put(1, "secret") {
            assert_eq!(on.on_message(&b, false, now), refused);
        }
        // Control ended while the clipboard was read: nothing leaves.
        assert!(matches!(
            on.on_message(&get, true, now),
            Step::Read { id: 1 }
        ));
        let answer = on.on_done(
            ClipboardDone::Read {
                id: 1,
                result: Ok(Some("secret".into())),
            },
            false,
        );
        assert_eq!(answer.used, None);
        assert!(
            !answer
                .replies
                .iter()
                .any(|r| matches!(r, ClipboardMessage::Content { .. }))
        );
    }

    #[test]
    fn over_the_limit_is_refused_both_ways_and_leaves_nothing() {
        let now = Instant::now();
        let mut desk = desk(1024);
        let text = "a".repeat(9000);
        let steps: Vec<Step> = put(4, &text)
            .iter()
            .map(|b| desk.on_message(b, true, now))
            .collect();
        assert_eq!(
            steps[0],
            Step::Reply(ClipboardMessage::Done {
                id: 4,
                outcome: ClipboardOutcome::TooLarge { limit: 1024 }
            })
        );
        assert_eq!(steps[1], Step::Nothing, "its later pieces are dropped");
        // A liar: a small total, then more than it said.
        let liar = [
            bytes(&ClipboardMessage::Put {
                id: 5,
                total: 3,
                text: "abc".into(),
                last: false,
            }),
            bytes(&ClipboardMessage::Put {
                id: 5,
                total: 3,
                text: "def".into(),
                last: true,
            }),
        ];
        assert_eq!(desk.on_message(&liar[0], true, now), Step::Nothing);
        assert!(matches!(
            desk.on_message(&liar[1], true, now),
            Step::Reply(ClipboardMessage::Done { id: 5, .. })
        ));
        let get = bytes(&ClipboardMessage::Get { id: 6 });
        assert_eq!(desk.on_message(&get, true, now), Step::Read { id: 6 });
        let answer = desk.on_done(
            ClipboardDone::Read {
                id: 6,
                result: Ok(Some(text)),
            },
            true,
        );
        assert_eq!(answer.used, None);
        assert_eq!(
            answer.replies,
            vec![ClipboardMessage::Done {
                id: 6,
                outcome: ClipboardOutcome::TooLarge { limit: 1024 }
            }]
        );
    }

    #[test]
    fn reads_come_in_pieces_and_too_fast_ones_are_dropped_and_counted() {
        let start = Instant::now();
        let mut desk = desk(1 << 20);
        let get = |id| bytes(&ClipboardMessage::Get { id });
        assert_eq!(desk.on_message(&get(1), true, start), Step::Read { id: 1 });
        let text = "x".repeat(10_000);
        let answer = desk.on_done(
            ClipboardDone::Read {
                id: 1,
                result: Ok(Some(text.clone())),
            },
            true,
        );
        assert_eq!(answer.used, Some((ClipboardDirection::FromDevice, 10_000)));
        let got: String = answer
            .replies
            .iter()
            .filter_map(|r| match r {
                ClipboardMessage::Content { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(got, text);
        assert_eq!(answer.replies.len(), 3);
        let soon = start + Duration::from_millis(100);
        assert!(matches!(
            desk.on_message(&get(2), true, soon),
            Step::Reply(_)
        ));
        assert_eq!(desk.dropped, 1);
        let later = start + GET_EVERY;
        assert_eq!(desk.on_message(&get(3), true, later), Step::Read { id: 3 });
        let failed = desk.on_done(
            ClipboardDone::Read {
                id: 3,
                result: Err(ClipboardError::Failed("no owner".into())),
            },
            true,
        );
        assert_eq!(failed.used, None);
    }

    #[test]
    fn garbage_and_the_device_s_own_messages_are_dropped_and_counted() {
        let now = Instant::now();
        let mut desk = desk(4096);
        for bad in [
            b"not json".to_vec(),
            bytes(&ClipboardMessage::Content {
                id: 1,
                total: 1,
                text: "a".into(),
                last: true,
            }),
            bytes(&ClipboardMessage::Done {
                id: 1,
                outcome: ClipboardOutcome::Set,
            }),
            vec![b'{'; 100_000],
        ] {
            assert_eq!(desk.on_message(&bad, true, now), Step::Nothing);
        }
        assert_eq!(desk.dropped, 4);
    }
}
