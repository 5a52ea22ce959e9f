use leptos::html::Video;
use leptos::prelude::*;
use web_sys::MediaStream;

/// The sharer's screen: fit to the window, or 1:1 pixels.
#[component]
pub fn VideoView(stream: RwSignal<Option<MediaStream>, LocalStorage>) -> impl IntoView {
    let video = NodeRef::<Video>::new();
    let actual_size = RwSignal::new(false);
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
    view! {
        <div class="screen-view">
            <div class="screen-tools">
                <label>
                    <input
                        type="checkbox"
                        prop:checked=move || actual_size.get()
                        on:change=move |_| actual_size.update(|a| *a = !*a)
                    />
                    " Actual size (1:1)"
                </label>
            </div>
            <div class=move || if actual_size.get() { "screen actual" } else { "screen fit" }>
                <video
                    node_ref=video
                    id="remote-screen"
                    aria-label="The sharer's screen"
                    autoplay=true
                    muted=true
                    playsinline=true
                ></video>
            </div>
        </div>
    }
}
