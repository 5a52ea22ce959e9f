#![allow(clippy::unwrap_used)]
use super::*;
use crate::files::{FileError, Incoming, Opened, Outgoing};
use std::sync::{Arc, Mutex};

/// Named files, shared with the test.
type Named = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Files in memory: what was kept, and part files still open.
#[derive(Default, Clone)]
struct Memory {
    kept: Named,
    open_parts: Arc<Mutex<u32>>,
    files: Named,
}

struct Part {
    name: String,
    bytes: Vec<u8>,
    memory: Memory,
}

impl Incoming for Part {
    fn append(&mut self, bytes: &[u8]) -> Result<(), FileError> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
    fn keep(self: Box<Self>) -> Result<String, FileError> {
        let mut kept = self.memory.kept.lock().unwrap();
        kept.push((self.name.clone(), self.bytes.clone()));
        Ok(self.name.clone())
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        *self.memory.open_parts.lock().unwrap() -= 1;
    }
}

struct Reader(Vec<u8>);

impl Outgoing for Reader {
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, FileError> {
        let at = (offset as usize).min(self.0.len());
        let n = buf.len().min(self.0.len() - at);
        buf[..n].copy_from_slice(&self.0[at..at + n]);
        Ok(n)
    }
}

impl FileStore for Memory {
    fn receive(&mut self, name: &str) -> Result<Box<dyn Incoming>, FileError> {
        *self.open_parts.lock().unwrap() += 1;
        Ok(Box::new(Part {
            name: name.to_owned(),
            bytes: Vec::new(),
            memory: self.clone(),
        }))
    }
    fn open(&mut self, path: &str) -> Result<Opened, FileError> {
        let files = self.files.lock().unwrap();
        let (_, bytes) = files
            .iter()
            .find(|(p, _)| p == path)
            .ok_or(FileError::NotFound)?;
        Ok(Opened {
            file: Box::new(Reader(bytes.clone())),
            name: path.rsplit('/').next().unwrap().to_owned(),
            size: bytes.len() as u64,
        })
    }
}

fn json(message: &FileMessage) -> Vec<u8> {
    serde_json::to_vec(message).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn sent(effects: &[Effect]) -> Vec<&FileMessage> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn notices(effects: &[Effect]) -> Vec<&FileNotice> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Server(ClientMessage::FileNotice { notice }) => Some(notice),
            _ => None,
        })
        .collect()
}

fn moved(effects: &[Effect]) -> Option<(FileDirection, u64)> {
    effects.iter().find_map(|e| match e {
        Effect::Server(ClientMessage::FileMoved { direction, bytes }) => Some((*direction, *bytes)),
        _ => None,
    })
}

fn desk() -> FileDesk {
    let mut desk = FileDesk::default();
    desk.set_limit(Some(1 << 30));
    desk
}

fn send_file(desk: &mut FileDesk, store: &mut Memory, id: u32, data: &[u8], from: usize) {
    for (i, piece) in data[from..].chunks(CHUNK_BYTES).enumerate() {
        let chunk = Chunk {
            id,
            offset: (from + i * CHUNK_BYTES) as u64,
            data: piece,
        };
        assert!(desk.on_message(&chunk.encode(), true, store).is_empty());
    }
}

#[test]
fn a_file_to_the_device_is_kept_only_after_consent_and_a_matching_hash() {
    let mut store = Memory::default();
    let mut desk = desk();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let offer = FileMessage::Offer {
        id: 1,
        name: "../../report.pdf".into(),
        size: data.len() as u64,
    };
    let asked = desk.on_message(&json(&offer), true, &mut store);
    assert_eq!(
        sent(&asked),
        [&FileMessage::Asking {
            id: 1,
            name: "report.pdf".into(),
            size: 100_000
        }]
    );
    assert_eq!(notices(&asked)[0].stage, FileStage::Asking);
    // Chunks before the sharer accepted are dropped; nothing is on disk.
    send_file(&mut desk, &mut store, 1, &data[..0], 0);
    let early = Chunk {
        id: 1,
        offset: 0,
        data: &data[..10],
    };
    assert!(
        desk.on_message(&early.encode(), true, &mut store)
            .is_empty()
    );
    assert_eq!(desk.dropped, 1);
    assert_eq!(*store.open_parts.lock().unwrap(), 0);

    let go = desk.on_answer(1, FileAnswer::Accept, true, &mut store);
    assert_eq!(sent(&go), [&FileMessage::Go { id: 1, offset: 0 }]);
    send_file(&mut desk, &mut store, 1, &data, 0);
    let progress = desk.tick(Instant::now(), true);
    assert!(sent(&progress).contains(&&FileMessage::Progress {
        id: 1,
        bytes: 100_000
    }));
    let end = desk.on_message(
        &json(&FileMessage::End {
            id: 1,
            sha256: sha(&data),
        }),
        true,
        &mut store,
    );
    assert_eq!(
        sent(&end),
        [&FileMessage::Done {
            id: 1,
            outcome: FileOutcome::Saved {
                name: "report.pdf".into()
            }
        }]
    );
    assert_eq!(moved(&end), Some((FileDirection::ToDevice, 100_000)));
    assert_eq!(notices(&end)[0].stage, FileStage::Done);
    assert_eq!(
        store.kept.lock().unwrap().as_slice(),
        [("report.pdf".to_owned(), data)]
    );
    assert!(!desk.active());
}

#[test]
fn a_wrong_hash_a_decline_or_a_cancel_leaves_nothing() {
    let mut store = Memory::default();
    let data = vec![1u8; 40_000];
    let offer = |id| {
        json(&FileMessage::Offer {
            id,
            name: "a.bin".into(),
            size: 40_000,
        })
    };
    let mut desk = desk();
    desk.on_message(&offer(1), true, &mut store);
    desk.on_answer(1, FileAnswer::Accept, true, &mut store);
    send_file(&mut desk, &mut store, 1, &data, 0);
    let end = desk.on_message(
        &json(&FileMessage::End {
            id: 1,
            sha256: sha(b"other"),
        }),
        true,
        &mut store,
    );
    assert!(matches!(
        sent(&end)[0],
        FileMessage::Done {
            outcome: FileOutcome::Corrupted,
            ..
        }
    ));
    assert_eq!(moved(&end), None);

    desk.on_message(&offer(2), true, &mut store);
    let declined = desk.on_answer(2, FileAnswer::Decline, true, &mut store);
    assert_eq!(notices(&declined)[0].stage, FileStage::Stopped);
    assert!(matches!(
        sent(&declined)[0],
        FileMessage::Done {
            outcome: FileOutcome::Declined,
            ..
        }
    ));

    desk.on_message(&offer(3), true, &mut store);
    desk.on_answer(3, FileAnswer::Accept, true, &mut store);
    send_file(&mut desk, &mut store, 3, &data[..20_000], 0);
    let cancelled = desk.on_answer(3, FileAnswer::Cancel, true, &mut store);
    assert!(matches!(
        sent(&cancelled)[0],
        FileMessage::Done {
            outcome: FileOutcome::CancelledBySharer,
            ..
        }
    ));
    desk.on_message(&offer(4), true, &mut store);
    desk.on_answer(4, FileAnswer::Accept, true, &mut store);
    let by_helper = desk.on_message(&json(&FileMessage::Cancel { id: 4 }), true, &mut store);
    assert!(matches!(
        sent(&by_helper)[0],
        FileMessage::Done {
            outcome: FileOutcome::CancelledByHelper,
            ..
        }
    ));
    assert!(store.kept.lock().unwrap().is_empty());
    assert_eq!(*store.open_parts.lock().unwrap(), 0, "every part file went");
}

#[test]
fn nothing_moves_without_control_the_tenant_or_room() {
    let mut store = Memory::default();
    let offer = |id, size| {
        json(&FileMessage::Offer {
            id,
            name: "a".into(),
            size,
        })
    };
    let outcome = |effects: Vec<Effect>| match sent(&effects).first() {
        Some(FileMessage::Done { outcome, .. }) => outcome.clone(),
        other => panic!("{other:?}"),
    };
    let mut off = FileDesk::default();
    assert_eq!(
        outcome(off.on_message(&offer(1, 5), true, &mut store)),
        FileOutcome::NotAllowed
    );
    let mut desk = FileDesk::default();
    desk.set_limit(Some(1000));
    assert_eq!(
        outcome(desk.on_message(&offer(1, 5), false, &mut store)),
        FileOutcome::NotAllowed
    );
    assert_eq!(
        outcome(desk.on_message(&offer(2, 1001), true, &mut store)),
        FileOutcome::TooLarge { limit: 1000 }
    );
    desk.on_message(&offer(3, 10), true, &mut store);
    assert_eq!(
        outcome(desk.on_message(&offer(4, 10), true, &mut store)),
        FileOutcome::NotAllowed,
        "one at a time"
    );
    // The answer names the agent's question, never the helper's id.
    assert!(
        desk.on_answer(3, FileAnswer::Accept, true, &mut store)
            .is_empty()
    );
    assert!(desk.asking());
    // Control ends mid-transfer: it stops, and the part file goes.
    desk.on_answer(1, FileAnswer::Accept, true, &mut store);
    assert!(!desk.asking());
    assert_eq!(*store.open_parts.lock().unwrap(), 1);
    assert_eq!(
        outcome(desk.tick(Instant::now(), false)),
        FileOutcome::NotAllowed
    );
    assert_eq!(*store.open_parts.lock().unwrap(), 0);
    // Garbage and messages that are the device's to send are counted.
    let before = desk.dropped;
    for bad in [
        b"\xF1\0".to_vec(),
        b"{".to_vec(),
        json(&FileMessage::Go { id: 9, offset: 0 }),
        json(&FileMessage::Done {
            id: 9,
            outcome: FileOutcome::Sent,
        }),
    ] {
        assert!(desk.on_message(&bad, true, &mut store).is_empty());
    }
    assert_eq!(desk.dropped, before + 4);
}

#[test]
fn a_file_from_the_device_streams_within_the_backlog_and_counts_once_received() {
    let mut store = Memory::default();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    store
        .files
        .lock()
        .unwrap()
        .push(("/var/log/app.log".into(), data.clone()));
    let mut desk = desk();
    let missing = desk.on_message(
        &json(&FileMessage::Request {
            id: 5,
            path: "/nope/.secret".into(),
        }),
        true,
        &mut store,
    );
    assert!(matches!(
        sent(&missing)[0],
        FileMessage::Done {
            outcome: FileOutcome::NotFound,
            ..
        }
    ));
    // The sharer sees every request, even one that found nothing.
    let seen = notices(&missing);
    assert_eq!(seen[0].path.as_deref(), Some("/nope/.secret"));
    assert_eq!(seen[0].stage, FileStage::Stopped);
    let asked = desk.on_message(
        &json(&FileMessage::Request {
            id: 6,
            path: "/var/log/app.log".into(),
        }),
        true,
        &mut store,
    );
    assert_eq!(notices(&asked)[0].name, "app.log");
    assert_eq!(notices(&asked)[0].path.as_deref(), Some("/var/log/app.log"));
    assert!(desk.pump(0).is_empty(), "nothing before the sharer accepts");
    let question = notices(&asked)[0].id;
    desk.on_answer(question, FileAnswer::Accept, true, &mut store);
    // A full channel takes nothing; then at most the backlog's room.
    assert!(desk.pump(SEND_BACKLOG).is_empty());
    let first = desk.pump(SEND_BACKLOG - 3 * CHUNK_BYTES);
    assert_eq!(first.len(), 3);
    let mut received = Vec::new();
    let mut end = None;
    for effect in first.into_iter().chain(desk.pump(0)) {
        match effect {
            Effect::Chunk(bytes) => {
                let chunk = Chunk::parse(&bytes).unwrap();
                assert_eq!(chunk.offset as usize, received.len());
                received.extend_from_slice(chunk.data);
            }
            Effect::Send(FileMessage::End { sha256, .. }) => end = Some(sha256),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(received, data);
    assert_eq!(end, Some(sha(&data)));
    assert!(desk.pump(0).is_empty(), "sent once");
    let received = desk.on_message(&json(&FileMessage::Received { id: 6 }), true, &mut store);
    assert_eq!(moved(&received), Some((FileDirection::FromDevice, 200_000)));
    assert!(!desk.active());
    // A helper who missed the end (a drop) hears it again.
    let again = desk.on_message(
        &json(&FileMessage::Resume { id: 6, offset: 0 }),
        true,
        &mut store,
    );
    assert_eq!(
        sent(&again),
        [&FileMessage::Done {
            id: 6,
            outcome: FileOutcome::Sent
        }]
    );
}

#[test]
fn a_transfer_resumes_on_a_new_channel_or_expires() {
    let mut store = Memory::default();
    let data: Vec<u8> = (0..90_000u32).map(|i| (i % 13) as u8).collect();
    let mut desk = desk();
    let t0 = Instant::now();
    desk.on_message(
        &json(&FileMessage::Offer {
            id: 1,
            name: "x.bin".into(),
            size: 90_000,
        }),
        true,
        &mut store,
    );
    desk.on_answer(1, FileAnswer::Accept, true, &mut store);
    send_file(&mut desk, &mut store, 1, &data[..3 * CHUNK_BYTES], 0);
    // The connection is replaced: chunks wait for the helper's Resume.
    let cut = desk.channel_opened(t0);
    assert_eq!(notices(&cut)[0].stage, FileStage::Waiting);
    let resumed = desk.on_message(
        &json(&FileMessage::Resume { id: 1, offset: 0 }),
        true,
        &mut store,
    );
    assert_eq!(
        sent(&resumed),
        [&FileMessage::Go {
            id: 1,
            offset: 3 * CHUNK_BYTES as u64
        }]
    );
    send_file(&mut desk, &mut store, 1, &data, 3 * CHUNK_BYTES);
    let end = desk.on_message(
        &json(&FileMessage::End {
            id: 1,
            sha256: sha(&data),
        }),
        true,
        &mut store,
    );
    assert_eq!(moved(&end), Some((FileDirection::ToDevice, 90_000)));
    assert_eq!(store.kept.lock().unwrap()[0].1, data);

    // From the device: the helper holds less than was sent.
    store
        .files
        .lock()
        .unwrap()
        .push(("/d/f".into(), data.clone()));
    desk.on_message(
        &json(&FileMessage::Request {
            id: 2,
            path: "/d/f".into(),
        }),
        true,
        &mut store,
    );
    desk.on_answer(2, FileAnswer::Accept, true, &mut store);
    let _ = desk.pump(SEND_BACKLOG - 4 * CHUNK_BYTES);
    desk.channel_opened(t0);
    assert!(desk.pump(0).is_empty(), "nothing while cut");
    let go = desk.on_message(
        &json(&FileMessage::Resume {
            id: 2,
            offset: CHUNK_BYTES as u64,
        }),
        true,
        &mut store,
    );
    assert_eq!(
        sent(&go),
        [&FileMessage::Go {
            id: 2,
            offset: CHUNK_BYTES as u64
        }]
    );
    let rest = desk.pump(0);
    let first = rest
        .iter()
        .find_map(|e| match e {
            Effect::Chunk(b) => Some(Chunk::parse(b).unwrap().offset),
            _ => None,
        })
        .unwrap();
    assert_eq!(first, CHUNK_BYTES as u64);
    assert!(rest.contains(&Effect::Send(FileMessage::End {
        id: 2,
        sha256: sha(&data)
    })));
    desk.on_message(&json(&FileMessage::Cancel { id: 2 }), true, &mut store);

    // A helper who never comes back: the transfer expires.
    desk.on_message(
        &json(&FileMessage::Offer {
            id: 3,
            name: "y".into(),
            size: 10,
        }),
        true,
        &mut store,
    );
    desk.on_answer(3, FileAnswer::Accept, true, &mut store);
    desk.channel_opened(t0);
    assert!(sent(&desk.tick(t0 + Duration::from_secs(59), true)).is_empty());
    let expired = desk.tick(t0 + RESUME_WITHIN, true);
    assert!(matches!(
        sent(&expired)[0],
        FileMessage::Done {
            outcome: FileOutcome::Expired,
            ..
        }
    ));
    assert_eq!(*store.open_parts.lock().unwrap(), 0);
}

#[test]
fn an_unanswered_question_and_a_stalled_transfer_end() {
    let mut store = Memory::default();
    let mut desk = desk();
    let t0 = Instant::now();
    let offer = |id| {
        json(&FileMessage::Offer {
            id,
            name: "a".into(),
            size: 100,
        })
    };
    desk.on_message(&offer(1), true, &mut store);
    assert!(desk.tick(t0, true).is_empty());
    let unanswered = desk.tick(t0 + ASK_WITHIN, true);
    assert!(matches!(
        sent(&unanswered)[0],
        FileMessage::Done {
            outcome: FileOutcome::NoAnswer,
            ..
        }
    ));
    // Accepted, then nothing arrives for a minute.
    desk.on_message(&offer(2), true, &mut store);
    desk.on_answer(2, FileAnswer::Accept, true, &mut store);
    let chunk = Chunk {
        id: 2,
        offset: 0,
        data: &[1; 10],
    };
    desk.on_message(&chunk.encode(), true, &mut store);
    desk.tick(t0, true);
    assert!(sent(&desk.tick(t0 + Duration::from_secs(59), true)).is_empty());
    let stalled = desk.tick(t0 + RESUME_WITHIN, true);
    assert!(matches!(
        sent(&stalled)[0],
        FileMessage::Done {
            outcome: FileOutcome::Expired,
            ..
        }
    ));
    assert_eq!(*store.open_parts.lock().unwrap(), 0);
}
