//! The sharer's say over a file transfer on their device: the agent tells
//! this page (through the server, which keeps nothing of it) the file's
//! name and size, and the sharer accepts or declines; while it moves they
//! see how far, how fast and how long is left, and may cancel it.

use leptos::prelude::*;
use tandem_protocol::files::{
    FileAnswer, FileDirection, FileNotice, FileOutcome, FileStage, size_text,
};

/// The latest notice, and when bytes were first seen moving (page clock
/// in ms, and how many then) for speed and time left.
#[derive(Debug, Clone, PartialEq)]
pub struct FileWatch {
    pub notice: FileNotice,
    pub since: Option<(f64, u64)>,
}

impl FileWatch {
    /// Takes a new notice in place of `previous`.
    pub fn next(previous: Option<&FileWatch>, notice: FileNotice, now_ms: f64) -> Self {
        let since = previous
            .filter(|p| p.notice.id == notice.id)
            .and_then(|p| p.since)
            .or_else(|| (notice.stage == FileStage::Moving).then_some((now_ms, notice.bytes)));
        Self { notice, since }
    }
}

/// " at PATH", when the notice names one.
fn at(path: &Option<String>) -> String {
    path.as_ref()
        .map(|p| format!(" at {p}"))
        .unwrap_or_default()
}

/// What the sharer reads about the transfer.
pub fn sharer_text(notice: &FileNotice, helper: &str) -> String {
    let name = &notice.name;
    let size = size_text(notice.size);
    match (notice.stage, notice.direction, &notice.outcome) {
        (FileStage::Asking, FileDirection::ToDevice, _) => format!(
            "{helper} wants to send you \u{201c}{name}\u{201d} ({size}). It would be saved in your Downloads folder."
        ),
        (FileStage::Asking, FileDirection::FromDevice, _) => format!(
            "{helper} asks for your file \u{201c}{name}\u{201d} ({size}){}. It would be copied to their computer.",
            at(&notice.path)
        ),
        (FileStage::Moving | FileStage::Waiting, FileDirection::ToDevice, _) => {
            format!("Receiving \u{201c}{name}\u{201d} from {helper}")
        }
        (FileStage::Moving | FileStage::Waiting, FileDirection::FromDevice, _) => {
            format!("Sending \u{201c}{name}\u{201d} to {helper}")
        }
        (FileStage::Done, _, Some(FileOutcome::Saved { name: saved })) => {
            format!("\u{201c}{saved}\u{201d} ({size}) is in your Downloads folder.")
        }
        (FileStage::Done, _, _) => format!("{helper} received \u{201c}{name}\u{201d} ({size})."),
        (FileStage::Stopped, FileDirection::FromDevice, Some(outcome))
            if notice.size == 0
                && matches!(
                    outcome,
                    FileOutcome::NotFound
                        | FileOutcome::NotAllowed
                        | FileOutcome::TooLarge { .. }
                        | FileOutcome::Failed
                ) =>
        {
            let why = match outcome {
                FileOutcome::NotFound => "there is no readable file there",
                FileOutcome::NotAllowed => "it belongs to the Tandem agent",
                FileOutcome::TooLarge { .. } => "it is over your organization's limit",
                _ => "it could not be read",
            };
            format!(
                "{helper} asked for \u{201c}{name}\u{201d}{}; nothing was sent: {why}.",
                at(&notice.path)
            )
        }
        (FileStage::Stopped, _, Some(outcome)) => {
            let why = match outcome {
                FileOutcome::Declined => "you declined it".to_owned(),
                FileOutcome::CancelledBySharer => "you cancelled it".to_owned(),
                FileOutcome::CancelledByHelper => format!("{helper} cancelled it"),
                FileOutcome::Corrupted => "it did not arrive intact".to_owned(),
                FileOutcome::Expired => "nothing moved for too long".to_owned(),
                FileOutcome::NoAnswer => "you did not answer in time".to_owned(),
                FileOutcome::NotAllowed => {
                    "full control ended, or your organization switched file transfer off".to_owned()
                }
                _ => "it failed".to_owned(),
            };
            format!("The transfer of \u{201c}{name}\u{201d} stopped: {why}. Nothing was kept.")
        }
        (FileStage::Stopped, _, None) => {
            format!("The transfer of \u{201c}{name}\u{201d} stopped. Nothing was kept.")
        }
    }
}

/// The notice, its progress and its buttons.
#[component]
pub fn SharerFileNotice(
    watch: RwSignal<Option<FileWatch>>,
    helper: Signal<String>,
    answer: Callback<(u32, FileAnswer)>,
) -> impl IntoView {
    move || {
        let FileWatch { notice, since } = watch.get()?;
        let id = notice.id;
        let text = sharer_text(&notice, &helper.get());
        let now = window().performance().map(|p| p.now()).unwrap_or_default();
        let rate = since.and_then(|(at, from)| {
            let seconds = (now - at) / 1000.0;
            let moved = notice.bytes.saturating_sub(from) as f64;
            (seconds >= 0.2 && moved > 0.0).then(|| {
                let speed = moved / seconds;
                let left = notice.size.saturating_sub(notice.bytes) as f64 / speed;
                format!(
                    " \u{b7} {}/s \u{b7} {} s left",
                    size_text(speed as u64),
                    left.ceil() as u64
                )
            })
        });
        let stage = notice.stage;
        let progress = matches!(stage, FileStage::Moving | FileStage::Waiting).then(|| {
            let amount = format!(
                "{} of {}{}",
                size_text(notice.bytes),
                size_text(notice.size),
                if stage == FileStage::Waiting {
                    " \u{b7} waiting for the helper's connection".to_owned()
                } else {
                    rate.unwrap_or_default()
                }
            );
            view! {
                <progress id="share-file-progress" max=notice.size.max(1) as f64 value=notice.bytes as f64></progress>
                <span id="share-file-amount">{amount}</span>
            }
        });
        let buttons = match stage {
            FileStage::Asking => Some(view! {
                <button type="button" id="share-file-accept"
                    on:click=move |_| answer.run((id, FileAnswer::Accept))>"Accept"</button>
                <button type="button" id="share-file-decline"
                    on:click=move |_| answer.run((id, FileAnswer::Decline))>"Decline"</button>
            }.into_any()),
            FileStage::Moving | FileStage::Waiting => Some(view! {
                <button type="button" id="share-file-cancel"
                    on:click=move |_| answer.run((id, FileAnswer::Cancel))>"Cancel transfer"</button>
            }.into_any()),
            FileStage::Done | FileStage::Stopped => None,
        };
        let stage_name = match stage {
            FileStage::Asking => "asking",
            FileStage::Moving => "moving",
            FileStage::Waiting => "waiting",
            FileStage::Done => "done",
            FileStage::Stopped => "stopped",
        };
        Some(view! {
            <div class="file-notice notice" id="share-file" data-stage=stage_name role="alert">
                <p id="share-file-text">{text}</p>
                {progress}
                {buttons}
            </div>
        })
    }
}
