use super::annotate::{Annotation, AnnotationLayer};
use super::notices::device_notices;
use super::tools::SessionTools;
use crate::rtc::remote::{AgentView, Remote};
use leptos::html::{Canvas, Div, Video};
use leptos::prelude::*;
use tandem_protocol::input::{
    Button, Control, Display, HELD_KEEP_ALIVE_MILLIS, HeldDown, Input, SpecialKeys,
};
use web_sys::{KeyboardEvent, MediaStream, MouseEvent, WheelEvent};

/// Where a point on the page lands on the sharer's screen. The video is
/// shown with `object-fit: contain`, so it may be letterboxed inside its
/// element: `element` is the element's box on the page (left, top, width,
/// height), `video` the stream's size in screen pixels. `None` outside the
/// picture.
pub fn map_point(
    element: (f64, f64, f64, f64),
    video: (u32, u32),
    page: (f64, f64),
) -> Option<(u32, u32)> {
    let (left, top, width, height) = element;
    let (vw, vh) = (f64::from(video.0), f64::from(video.1));
    if vw <= 0.0 || vh <= 0.0 || width <= 0.0 || height <= 0.0 {
        return None;
    }
    let scale = (width / vw).min(height / vh);
    let (shown_w, shown_h) = (vw * scale, vh * scale);
    let x = (page.0 - left - (width - shown_w) / 2.0) / scale;
    let y = (page.1 - top - (height - shown_h) / 2.0) / scale;
    if x < 0.0 || y < 0.0 || x >= vw || y >= vh {
        return None;
    }
    Some((x.floor() as u32, y.floor() as u32))
}

/// How the picture is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// As wide as the view.
    Fit,
    /// One screen pixel per CSS pixel.
    Actual,
    /// The largest whole multiple (or whole fraction) that fits the width:
    /// text stays sharp.
    Integer,
}

/// The integer scale for a picture `video` wide in a view `view` wide.
pub fn integer_scale(video: u32, view: f64) -> f64 {
    if video == 0 || view <= 0.0 {
        return 1.0;
    }
    let ratio = view / f64::from(video);
    if ratio >= 1.0 {
        ratio.floor()
    } else {
        1.0 / (1.0 / ratio).ceil()
    }
}

/// How a display is named in the picker: "Display 2 (1920×1080, primary)".
pub fn display_label(display: &Display) -> String {
    let primary = if display.primary { ", primary" } else { "" };
    format!(
        "{} ({}×{}{primary})",
        display.name, display.width, display.height
    )
}

/// Wheel notches from a DOM delta (pixels or lines).
fn notches(delta: f64, mode: u32) -> i32 {
    let lines = if mode == 0 { delta / 100.0 } else { delta };
    if lines == 0.0 {
        0
    } else {
        (lines.abs().ceil().min(10.0) as i32) * lines.signum() as i32
    }
}

/// The key combination that gives the keyboard back to the page while in
/// full control (WCAG 2.1.2, no keyboard trap): Ctrl+Alt+Shift together,
/// as Guacamole does for its menu.
pub const RELEASE_KEYS: &str = "Ctrl+Alt+Shift";

/// Whether a key event completes [`RELEASE_KEYS`].
pub fn is_release_combo(ctrl: bool, alt: bool, shift: bool) -> bool {
    ctrl && alt && shift
}

/// Whether the page is in full screen now.
fn in_fullscreen() -> bool {
    document().fullscreen_element().is_some()
}

/// Asks the browser to send system keys (Alt+Tab, the Windows key, Esc)
/// to the page while in full screen (the Keyboard Lock API, Chromium);
/// without it, full screen still works and those keys stay the browser's.
fn lock_keyboard(lock: bool) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let Ok(keyboard) = js_sys::Reflect::get(&navigator, &"keyboard".into()) else {
        return;
    };
    let name = if lock { "lock" } else { "unlock" };
    if let Ok(method) = js_sys::Reflect::get(&keyboard, &name.into())
        && let Some(method) = method.dyn_ref::<js_sys::Function>()
    {
        let _ = method.call0(&keyboard);
    }
}

/// The sharer's screen: fit to the window, or 1:1 pixels. When `control`
/// is on, keyboard and mouse over it go to the agent through `remote`.
/// `lead` goes first in its toolbar (the page's mode controls); the
/// picture shows only while `live`.
#[component]
pub fn VideoView(
    stream: RwSignal<Option<MediaStream>, LocalStorage>,
    #[prop(optional)] control: Option<Signal<bool>>,
    #[prop(optional)] remote: Option<StoredValue<Remote, LocalStorage>>,
    #[prop(optional)] agent: Option<RwSignal<AgentView>>,
    #[prop(optional, into)] special_keys: Option<Signal<Vec<SpecialKeys>>>,
    /// The organization's clipboard limit, when it allows the clipboard.
    #[prop(optional, into)]
    clipboard_limit: Option<Signal<Option<u32>>>,
    /// The organization's file limit, when it allows file transfer.
    #[prop(optional, into)]
    file_limit: Option<Signal<Option<u64>>>,
    #[prop(optional, into)] live: Option<Signal<bool>>,
    #[prop(optional)] lead: Option<ChildrenFn>,
) -> impl IntoView {
    let live = live.unwrap_or_else(|| Signal::derive(|| true));
    // Bumped when the picture or the window changes size.
    let layout = RwSignal::new(0u32);
    // The surface has a size only once shown: measure again then.
    Effect::new(move |_| {
        if live.get() {
            request_animation_frame(move || layout.update(|n| *n += 1));
        }
    });
    let fullscreen = RwSignal::new(false);
    let fs_listener = window_event_listener(leptos::ev::resize, move |_| {
        let now = in_fullscreen();
        if fullscreen.get_untracked() != now {
            fullscreen.set(now);
            if !now {
                lock_keyboard(false);
            }
        }
    });
    on_cleanup(move || fs_listener.remove());
    let video = NodeRef::<Video>::new();
    // The agent's lossless tiles, drawn over the video (see `rtc::tiles`).
    let tile_canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        if let (Some(remote), Some(canvas), Some(element)) =
            (remote, tile_canvas.get(), video.get())
        {
            remote.with_value(|r| r.tiles().attach(canvas, &element));
        }
    });
    let surface = NodeRef::<Div>::new();
    let scale = RwSignal::new(Scale::Fit);
    let resize = window_event_listener(leptos::ev::resize, move |_| layout.update(|n| *n += 1));
    on_cleanup(move || resize.remove());
    let control = control.unwrap_or_else(|| Signal::derive(|| false));
    Effect::new(move |_| {
        let current = stream.get();
        if let Some(element) = video.get() {
            // The muted property (not only the attribute) lets it play
            // without a user gesture.
            element.set_muted(true);
            element.set_autoplay(true);
            element.set_src_object(current.as_ref());
            if current.is_some() {
                let _ = element.play();
            }
        }
    });
    // What the helper holds down on the device: said again every
    // HELD_KEEP_ALIVE_MILLIS, so the agent can let go of it when that stops
    // (a lost key-up, a dropped connection).
    let held = StoredValue::new(HeldDown::default());
    let send = move |input: Input| {
        if control.get_untracked()
            && let Some(remote) = remote
        {
            remote.with_value(|r| r.send(&input));
            held.update_value(|h| h.note(&input));
        }
    };
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if !control.get_untracked() {
                held.update_value(HeldDown::clear);
            } else if !held.with_value(HeldDown::is_empty) {
                send(Input::Held);
            }
        },
        std::time::Duration::from_millis(u64::from(HELD_KEEP_ALIVE_MILLIS)),
    ) {
        on_cleanup(move || handle.clear());
    }
    let at = move |event: &MouseEvent| -> Option<(u32, u32)> {
        let element = video.get_untracked()?;
        let rect = element.get_bounding_client_rect();
        map_point(
            (rect.left(), rect.top(), rect.width(), rect.height()),
            (element.video_width(), element.video_height()),
            (f64::from(event.client_x()), f64::from(event.client_y())),
        )
    };
    // Where on the picture the helper's pointer last was.
    let last_at = StoredValue::new(None::<(u32, u32)>);
    let on_move = move |event: MouseEvent| {
        if let Some((x, y)) = at(&event) {
            last_at.set_value(Some((x, y)));
            send(Input::Move { x, y });
        }
    };
    // A button let go anywhere, also outside the picture where the surface
    // never hears it, is let go on the device at the last point it knew;
    // otherwise the keep-alive would hold it down indefinitely.
    let release_anywhere = window_event_listener(leptos::ev::mouseup, move |event: MouseEvent| {
        let Some(button) = Button::from_dom(event.button()) else {
            return;
        };
        if !control.get_untracked() || !held.with_value(|h| h.holds(button)) {
            return;
        }
        if let Some((x, y)) = at(&event).or_else(|| last_at.get_value()) {
            send(Input::Button {
                button,
                down: false,
                x,
                y,
            });
        }
    });
    on_cleanup(move || release_anywhere.remove());
    let on_button = move |event: MouseEvent, down: bool| {
        if !control.get_untracked() {
            return;
        }
        event.prevent_default();
        if down && let Some(surface) = surface.get_untracked() {
            let _ = surface.focus();
        }
        if let (Some((x, y)), Some(button)) = (at(&event), Button::from_dom(event.button())) {
            last_at.set_value(Some((x, y)));
            send(Input::Button { button, down, x, y });
        }
    };
    let on_wheel = move |event: WheelEvent| {
        if !control.get_untracked() {
            return;
        }
        event.prevent_default();
        if let Some((x, y)) = at(&event) {
            let (dx, dy) = (
                notches(event.delta_x(), event.delta_mode()),
                notches(event.delta_y(), event.delta_mode()),
            );
            if dx != 0 || dy != 0 {
                send(Input::Wheel { dx, dy, x, y });
            }
        }
    };
    let on_key = move |event: KeyboardEvent, down: bool| {
        if !control.get_untracked() {
            return;
        }
        event.prevent_default();
        // The way out: the keys pressed so far are let go on the device,
        // and the focus moves to the toolbar.
        if down && is_release_combo(event.ctrl_key(), event.alt_key(), event.shift_key()) {
            send(Input::ReleaseAll);
            if let Some(surface) = surface.get_untracked() {
                let _ = surface.blur();
            }
            if let Some(hint) = document().get_element_by_id("keyboard-release") {
                use wasm_bindgen::JsCast;
                if let Some(hint) = hint.dyn_ref::<web_sys::HtmlElement>() {
                    let _ = hint.focus();
                }
            }
            return;
        }
        // Every other key goes to the sharer, Tab and shortcuts included.
        send(Input::Key {
            code: event.code(),
            down,
        });
    };
    // Changes only when control starts or ends: the tools below keep
    // their state (an open box, a status) while other signals move.
    let controlling = Memo::new(move |_| control.get());
    let annotation = remote.map(Annotation::new);
    let tools_on = Memo::new(move |_| {
        live.get() && (controlling.get() || annotation.is_some_and(|a| a.available.get()))
    });
    let clipboard_on = Memo::new(move |_| {
        clipboard_limit
            .and_then(|l| l.get())
            .filter(|_| controlling.get())
    });
    let files_on = Memo::new(move |_| {
        file_limit
            .and_then(|l| l.get())
            .filter(|_| controlling.get())
    });
    let special = move || {
        let keys = special_keys.map(|k| k.get()).unwrap_or_default();
        control.get().then(|| {
            keys.into_iter()
                .map(|keys| {
                    view! {
                        <button type="button" class="special-key" on:click=move |_| send(Input::Special { keys })>
                            {keys.label()}
                        </button>
                    }
                })
                .collect_view()
        })
    };
    let toggle_fullscreen = move |_| {
        if in_fullscreen() {
            lock_keyboard(false);
            document().exit_fullscreen();
        } else if let Some(target) = document().get_element_by_id("workspace")
            && target.request_fullscreen().is_ok()
        {
            lock_keyboard(true);
            fullscreen.set(true);
        }
    };
    // Where the keyboard goes, and how to get it back.
    let keyboard = move || {
        control.get().then(|| {
            view! {
                <button type="button" id="keyboard-release" class="keyboard-hint"
                    title="Click the picture to send keys to the device again"
                    on:click=move |_| {
                        if let Some(surface) = surface.get_untracked() {
                            let _ = surface.focus();
                        }
                    }>
                    {format!("Keys → device · {RELEASE_KEYS} frees them")}
                </button>
            }
        })
    };
    // What the device says the helper cannot see or do right now.
    let notices = move || agent.map(|agent| device_notices(&agent.get()));
    // Which of the device's displays is shared; only offered when it has
    // more than one. The agent answers with its new list and choice.
    let display_picker = move || {
        let agent = agent?.get();
        if agent.displays.len() < 2 {
            return None;
        }
        let current = agent.current_display;
        let options = agent
            .displays
            .iter()
            .map(|display| {
                let id = display.id;
                view! {
                    <option value=id.to_string() prop:selected=id == current>
                        {display_label(display)}
                    </option>
                }
            })
            .collect_view();
        let pick = move |event: leptos::ev::Event| {
            if let (Ok(id), Some(remote)) = (event_target_value(&event).parse::<u32>(), remote) {
                remote.with_value(|r| r.send_control(&Control::SelectDisplay { id }));
            }
        };
        Some(view! {
            <label class="display-picker">
                "Display "
                <select id="display-picker" on:change=pick>{options}</select>
            </label>
        })
    };
    // The picture's size: as large as the surface allows (fit), or the
    // integer scale; 1:1 needs none. Sizing the element to the picture
    // keeps it free of letterboxing, so the drawn cursor lands exactly.
    // Sizes and positions are set through the CSSOM: the console's CSP
    // (`style-src 'self'`) ignores style attributes.
    let video_size = Memo::new(move |_| -> Option<(f64, f64)> {
        layout.track();
        live.track();
        let (Some(element), Some(surface)) = (video.get(), surface.get()) else {
            return None;
        };
        let (vw, vh) = (
            f64::from(element.video_width()),
            f64::from(element.video_height()),
        );
        let (sw, sh) = (
            f64::from(surface.client_width()),
            f64::from(surface.client_height()),
        );
        let k = match scale.get() {
            Scale::Actual => return None,
            Scale::Fit if vw > 0.0 && vh > 0.0 && sw > 0.0 && sh > 0.0 => (sw / vw).min(sh / vh),
            Scale::Fit => return None,
            Scale::Integer => integer_scale(element.video_width(), sw),
        };
        Some(((vw * k).floor(), (vh * k).floor()))
    });
    // The sharer's pointer, drawn here: the capture has no cursor in it.
    let cursor = move || {
        let agent = agent?.get();
        let (x, y) = agent.cursor?;
        layout.track();
        let element = video.get()?;
        let (vw, vh) = (element.video_width(), element.video_height());
        if vw == 0 || vh == 0 {
            return None;
        }
        let (url, hot_x, hot_y) = agent.cursor_image.unwrap_or_default();
        let left = format!("{}%", f64::from(x) * 100.0 / f64::from(vw));
        let top = format!("{}%", f64::from(y) * 100.0 / f64::from(vh));
        let shift = format!("translate(-{hot_x}px, -{hot_y}px)");
        Some(if url.is_empty() {
            view! { <span class="remote-cursor arrow" id="remote-cursor" style:left=left style:top=top style:transform=shift></span> }
                .into_any()
        } else {
            view! { <img class="remote-cursor" id="remote-cursor" alt="" src=url style:left=left style:top=top style:transform=shift /> }
                .into_any()
        })
    };
    let scale_choice = move |value: Scale, label: &'static str| {
        view! {
            <label>
                <input
                    type="radio"
                    name="screen-scale"
                    prop:checked=move || scale.get() == value
                    on:change=move |_| scale.set(value)
                />
                {label}
            </label>
        }
    };
    view! {
        <div class="screen-view">
            <div class="screen-tools" role="toolbar" aria-label="Session tools">
                {lead.map(|lead| lead())}
                <span class="special-keys" role="group" aria-label="Special keys">{special}</span>
                {move || tools_on.get().then(|| view! {
                    <SessionTools send=Callback::new(send) remote clipboard=clipboard_on files=files_on controlling annotation />
                })}
                {display_picker}
                <span class="scale" role="radiogroup" aria-label="Picture size">
                    {scale_choice(Scale::Fit, " Fit ")}
                    {scale_choice(Scale::Actual, " Actual size (1:1) ")}
                    {scale_choice(Scale::Integer, " Sharp ")}
                </span>
                <button type="button" id="fullscreen-button" aria-pressed=move || fullscreen.get().to_string()
                    on:click=toggle_fullscreen>
                    {move || if fullscreen.get() { "Exit full screen" } else { "Full screen" }}
                </button>
                {keyboard}
            </div>
            {notices}
            <div
                node_ref=surface
                id="remote-surface"
                tabindex="0"
                hidden=move || !live.get()
                aria-label=move || if control.get() {
                    format!("The sharer's screen. Keys go to the device; {RELEASE_KEYS} gives them back.")
                } else {
                    "The sharer's screen".to_owned()
                }
                class=move || {
                    let size = match scale.get() {
                        Scale::Fit => "screen fit",
                        Scale::Actual => "screen actual",
                        Scale::Integer => "screen integer",
                    };
                    if control.get() { format!("{size} controlling") } else { size.to_owned() }
                }
                on:mousemove=on_move
                on:mousedown=move |e| on_button(e, true)
                on:mouseup=move |e| on_button(e, false)
                on:contextmenu=move |e: MouseEvent| if control.get_untracked() { e.prevent_default() }
                on:wheel=on_wheel
                on:keydown=move |e| on_key(e, true)
                on:keyup=move |e| on_key(e, false)
                on:blur=move |_| send(Input::ReleaseAll)
            >
                <div class="screen-stage">
                    <video
                        node_ref=video
                        id="remote-screen"
                        aria-label="The sharer's screen"
                        autoplay=true
                        muted=true
                        playsinline=true
                        style:width=move || video_size.get().map(|(w, _)| format!("{w}px")).unwrap_or_default()
                        style:height=move || video_size.get().map(|(_, h)| format!("{h}px")).unwrap_or_default()
                        on:resize=move |_| layout.update(|n| *n += 1)
                        on:loadedmetadata=move |_| layout.update(|n| *n += 1)
                    ></video>
                    <canvas node_ref=tile_canvas id="remote-tiles" class="remote-tiles" aria-hidden="true"></canvas>
                    {annotation.zip(remote).map(|(annotation, remote)| view! { <AnnotationLayer annotation remote video /> })}
                    {cursor}
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn points_map_exactly_through_letterboxing() {
        // 1280×720 shown in a 640×480 box at (10, 20): scale 0.5, 60 px
        // bars above and below.
        let element = (10.0, 20.0, 640.0, 480.0);
        assert_eq!(map_point(element, (1280, 720), (10.0, 80.0)), Some((0, 0)));
        assert_eq!(
            map_point(element, (1280, 720), (649.9, 439.9)),
            Some((1279, 719))
        );
        assert_eq!(
            map_point(element, (1280, 720), (330.0, 260.0)),
            Some((640, 360))
        );
        assert_eq!(map_point(element, (1280, 720), (100.0, 70.0)), None);
        assert_eq!(map_point(element, (0, 0), (100.0, 100.0)), None);
        // 1:1 in a larger box: centred.
        assert_eq!(
            map_point((0.0, 0.0, 1000.0, 1000.0), (1000, 500), (500.0, 250.0)),
            Some((500, 0))
        );
    }

    #[wasm_bindgen_test]
    fn integer_scale_is_whole_multiples_or_fractions() {
        assert_eq!(integer_scale(1024, 2100.0), 2.0);
        assert_eq!(integer_scale(1024, 1024.0), 1.0);
        assert_eq!(integer_scale(1920, 1000.0), 0.5);
        assert_eq!(integer_scale(1920, 600.0), 1.0 / 4.0);
        assert_eq!(integer_scale(0, 600.0), 1.0);
    }

    #[wasm_bindgen_test]
    fn displays_are_named_with_their_size() {
        let mut display = Display {
            id: 2,
            name: "Display 2".into(),
            width: 1920,
            height: 1080,
            primary: false,
            x: -1920,
            y: 0,
        };
        assert_eq!(display_label(&display), "Display 2 (1920×1080)");
        display.primary = true;
        assert_eq!(display_label(&display), "Display 2 (1920×1080, primary)");
    }

    #[wasm_bindgen_test]
    fn only_all_three_modifiers_release_the_keyboard() {
        assert!(is_release_combo(true, true, true));
        assert!(
            !is_release_combo(true, true, false),
            "Ctrl+Alt reaches the device"
        );
        assert!(!is_release_combo(false, false, false));
    }

    #[wasm_bindgen_test]
    fn wheel_deltas_become_notches() {
        assert_eq!(notches(100.0, 0), 1);
        assert_eq!(notches(-250.0, 0), -3);
        assert_eq!(notches(3.0, 1), 3);
        assert_eq!(notches(0.0, 0), 0);
    }
}
