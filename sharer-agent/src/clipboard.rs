//! The device's clipboard (text), a capability of the OS like capture and
//! injection: `platform::clipboard()` picks the backend (the X11
//! CLIPBOARD selection, or the Windows clipboard, both through `arboard`).
//!
//! Reading may wait on another program (X hands a selection over through
//! its owner), so the session never calls it on its own task:
//! [`ClipboardWorker`] owns the clipboard on a thread of its own and
//! answers on a channel. The worker keeps no text: a written one is the
//! OS's (on X it is served while the session lasts, then given to the
//! desktop's clipboard manager if there is one), a read one is handed on.

use tokio::sync::mpsc;

/// Why the clipboard could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipboardError {
    /// There is no clipboard to use (no display, or the OS refused).
    #[error("the clipboard is unavailable: {0}")]
    Unavailable(String),
    /// Reading or writing failed.
    #[error("the clipboard could not be used: {0}")]
    Failed(String),
}

/// One OS clipboard.
pub trait Clipboard {
    /// The text on the clipboard, if it holds text.
    fn read_text(&mut self) -> Result<Option<String>, ClipboardError>;
    /// Puts `text` on the clipboard.
    fn write_text(&mut self, text: &str) -> Result<(), ClipboardError>;
}

/// What the worker was asked.
#[derive(Debug)]
enum Job {
    Write { id: u32, text: String },
    Read { id: u32 },
}

/// What the worker did.
#[derive(Debug, PartialEq, Eq)]
pub enum ClipboardDone {
    Written {
        id: u32,
        result: Result<(), ClipboardError>,
    },
    Read {
        id: u32,
        result: Result<Option<String>, ClipboardError>,
    },
}

/// A clipboard on a thread of its own, made there by `open` on first use.
/// Dropping it ends the thread once its job is done.
pub struct ClipboardWorker {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl std::fmt::Debug for ClipboardWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClipboardWorker").finish_non_exhaustive()
    }
}

impl ClipboardWorker {
    pub fn start<F>(open: F, done: mpsc::Sender<ClipboardDone>) -> Self
    where
        F: FnOnce() -> Result<Box<dyn Clipboard>, ClipboardError> + Send + 'static,
    {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("tandem-clipboard".into())
            .spawn(move || {
                let mut open = Some(open);
                let mut clipboard: Option<Result<Box<dyn Clipboard>, ClipboardError>> = None;
                while let Ok(job) = queue.recv() {
                    let board = clipboard.get_or_insert_with(|| match open.take() {
                        Some(open) => open(),
                        None => Err(ClipboardError::Unavailable("not opened".into())),
                    });
                    let answer = match (job, board) {
                        (Job::Write { id, text }, Ok(board)) => ClipboardDone::Written {
                            id,
                            result: board.write_text(&text),
                        },
                        (Job::Read { id }, Ok(board)) => ClipboardDone::Read {
                            id,
                            result: board.read_text(),
                        },
                        (Job::Write { id, .. }, Err(error)) => ClipboardDone::Written {
                            id,
                            result: Err(error.clone()),
                        },
                        (Job::Read { id }, Err(error)) => ClipboardDone::Read {
                            id,
                            result: Err(error.clone()),
                        },
                    };
                    if done.blocking_send(answer).is_err() {
                        break;
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "the clipboard thread could not start");
        }
        Self { jobs }
    }

    /// Puts `text` on the clipboard; the answer comes on the channel.
    pub fn write(&self, id: u32, text: String) -> bool {
        self.jobs.send(Job::Write { id, text }).is_ok()
    }

    /// Reads the clipboard; the answer comes on the channel.
    pub fn read(&self, id: u32) -> bool {
        self.jobs.send(Job::Read { id }).is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A clipboard in memory, for the worker's own test.
    struct Memory(Option<String>);

    impl Clipboard for Memory {
        fn read_text(&mut self) -> Result<Option<String>, ClipboardError> {
            Ok(self.0.clone())
        }
        fn write_text(&mut self, text: &str) -> Result<(), ClipboardError> {
            self.0 = Some(text.to_owned());
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_worker_answers_each_job_in_order() {
        let (tx, mut rx) = mpsc::channel(4);
        let worker = ClipboardWorker::start(|| Ok(Box::new(Memory(None))), tx);
        assert!(worker.read(1));
        assert!(worker.write(2, "é€".into()));
        assert!(worker.read(3));
        assert_eq!(
            rx.recv().await,
            Some(ClipboardDone::Read {
                id: 1,
                result: Ok(None)
            })
        );
        assert_eq!(
            rx.recv().await,
            Some(ClipboardDone::Written {
                id: 2,
                result: Ok(())
            })
        );
        assert_eq!(
            rx.recv().await,
            Some(ClipboardDone::Read {
                id: 3,
                result: Ok(Some("é€".into()))
            })
        );
    }

    #[tokio::test]
    async fn a_clipboard_that_cannot_open_answers_every_job_with_why() {
        let (tx, mut rx) = mpsc::channel(4);
        let worker =
            ClipboardWorker::start(|| Err(ClipboardError::Unavailable("no display".into())), tx);
        assert!(worker.write(1, "x".into()));
        assert!(matches!(
            rx.recv().await,
            Some(ClipboardDone::Written {
                id: 1,
                result: Err(ClipboardError::Unavailable(_))
            })
        ));
    }
}
