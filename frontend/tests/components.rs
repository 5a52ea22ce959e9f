//! Component tests: real components mounted into headless Chromium's DOM by
//! `wasm-bindgen-test-runner`. No server is involved.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use leptos::prelude::*;
use tandem_frontend::components::auth::SignInForm;
use tandem_frontend::components::devices::DeviceTable;
use tandem_protocol::devices::{Compliance, DeviceSummary};
use tandem_protocol::{DeviceId, UnixMillis};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `view` into a fresh container and returns the container.
fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> HtmlElement {
    let document = document();
    let container: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&container).unwrap();
    let handle = leptos::mount::mount_to(container.clone(), view);
    // Keep the view alive for the rest of the test.
    std::mem::forget(handle);
    container
}

fn text_of(root: &HtmlElement, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .text_content()
        .unwrap_or_default()
}

fn device(name: &str, compliance: Compliance, last_seen: Option<i64>) -> DeviceSummary {
    DeviceSummary {
        id: DeviceId::from(name),
        name: name.to_owned(),
        os: "Windows".to_owned(),
        os_version: "11".to_owned(),
        primary_user: (name == "A").then(|| "Ann Lee".to_owned()),
        enrolled: compliance != Compliance::NonCompliant,
        compliance,
        last_seen: last_seen.map(UnixMillis),
        agent_version: None,
        online: name == "A",
        can_offer: name == "A",
    }
}

#[wasm_bindgen_test]
fn device_table_shows_one_labelled_row_per_device() {
    let now = 1_000_000_000;
    let devices = vec![
        device("A", Compliance::Compliant, Some(now - 5 * 60_000)),
        device("B", Compliance::NonCompliant, None),
    ];
    // In a router, as in the app: the offer button navigates.
    let root = mount(move || {
        view! { <leptos_router::components::Router><DeviceTable devices now_ms=now /></leptos_router::components::Router> }
    });

    let rows = root.query_selector_all("tbody tr").unwrap();
    assert_eq!(rows.length(), 2);
    assert_eq!(text_of(&root, "caption"), "2 devices");
    assert_eq!(text_of(&root, "tr[data-device-id='A'] th"), "A");
    let a = text_of(&root, "tr[data-device-id='A']");
    assert!(
        a.contains("Ann Lee") && a.contains("Compliant") && a.contains("5 min ago"),
        "{a}"
    );
    let b = text_of(&root, "tr[data-device-id='B']");
    assert!(
        b.contains("Non-compliant") && b.contains("Never") && b.contains("—"),
        "{b}"
    );
    // Only an enrolled device whose agent is online can be offered help.
    assert!(a.contains("Online"), "{a}");
    assert_eq!(
        text_of(&root, "tr[data-device-id='A'] button.offer"),
        "Offer remote assistance"
    );
    assert!(b.contains("Offline"), "{b}");
    assert!(
        root.query_selector("tr[data-device-id='B'] button")
            .unwrap()
            .is_none()
    );
    // Compliance is said in words and marked for styling, never colour alone.
    assert_eq!(
        text_of(&root, "tr[data-device-id='B'] .badge.warn"),
        "Non-compliant"
    );
}

#[wasm_bindgen_test]
fn device_table_says_when_there_are_no_devices() {
    let root = mount(|| view! { <DeviceTable devices=Vec::new() now_ms=0 /> });
    assert!(root.query_selector("table").unwrap().is_none());
    assert!(
        root.text_content()
            .unwrap_or_default()
            .contains("no devices you can help")
    );
}

#[wasm_bindgen_test]
async fn sign_in_form_checks_fields_before_calling_the_server() {
    let called = RwSignal::new(false);
    let root = mount(move || {
        view! { <SignInForm on_signed_in=Callback::new(move |_| called.set(true)) /> }
    });
    // Every control has a label.
    for id in ["signin-email", "signin-password"] {
        assert!(
            root.query_selector(&format!("label[for='{id}']"))
                .unwrap()
                .is_some(),
            "{id} has a label"
        );
    }
    let submit: HtmlElement = root
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();

    submit.click();
    leptos::task::tick().await;
    assert_eq!(text_of(&root, "[role=alert]"), "Enter your e-mail address.");

    let email: HtmlInputElement = root
        .query_selector("#signin-email")
        .unwrap()
        .unwrap()
        .unchecked_into();
    email.set_value("megan@contoso.test");
    email
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    submit.click();
    leptos::task::tick().await;
    assert_eq!(text_of(&root, "[role=alert]"), "Enter your password.");
    assert!(!called.get_untracked(), "nothing was sent");
}

#[wasm_bindgen_test]
fn an_export_over_the_bound_is_not_offered_and_says_why() {
    use tandem_frontend::components::reports::ExportLink;
    use tandem_protocol::reports::{MAX_EXPORT_ROWS, ReportQuery};
    let within = mount(
        || view! { <ExportLink query=ReportQuery::default() total=u64::from(MAX_EXPORT_ROWS) /> },
    );
    assert!(within.query_selector("a#export-csv").unwrap().is_some());
    let over = mount(
        || view! { <ExportLink query=ReportQuery::default() total=u64::from(MAX_EXPORT_ROWS) + 1 /> },
    );
    assert!(over.query_selector("a#export-csv").unwrap().is_none());
    assert!(
        text_of(&over, "#export-csv-too-large")
            .contains("holds 50001 sessions; an export holds at most 50000"),
        "{}",
        text_of(&over, "#export-csv-too-large")
    );
}

/// The RGB rows of a tile of one colour.
fn solid(width: usize, height: usize, rgb: [u8; 3]) -> Vec<u8> {
    rgb.repeat(width * height)
}

fn pixel(canvas: &web_sys::HtmlCanvasElement, x: f64, y: f64) -> Vec<u8> {
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    context
        .get_image_data(x, y, 1.0, 1.0)
        .unwrap()
        .data()
        .to_vec()
}

fn drawn(canvas: &web_sys::HtmlCanvasElement) -> Option<String> {
    canvas.get_attribute("data-tiles")
}

#[wasm_bindgen_test]
fn an_older_tile_never_stays_over_newer_video() {
    use tandem_frontend::rtc::tiles::TileLayer;
    use tandem_protocol::tiles::{TileMessage, TileRect};
    let canvas: web_sys::HtmlCanvasElement = document()
        .create_element("canvas")
        .unwrap()
        .unchecked_into();
    let video: web_sys::HtmlVideoElement =
        document().create_element("video").unwrap().unchecked_into();
    let layer = TileLayer::default();
    layer.attach(canvas.clone(), &video);
    // The agent numbers messages as they leave.
    let sent = std::cell::Cell::new(0);
    let number = |mut message: Vec<u8>| {
        sent.set(sent.get() + 1);
        tandem_protocol::tiles::stamp(&mut message, sent.get());
        message
    };
    let rect = |x, y, width, height| TileRect {
        x,
        y,
        width,
        height,
    };
    let screen = (4, 4);
    let red = [255, 0, 0, 255];
    let blue = [0, 0, 255, 255];
    let none = [0, 0, 0, 0];
    layer.receive(&number(
        TileMessage::tile(screen, rect(0, 0, 2, 2), &solid(2, 2, [255, 0, 0])).encode(),
    ));
    assert_eq!(drawn(&canvas).as_deref(), Some("1"));
    assert_eq!((canvas.width(), canvas.height()), (4, 4));
    assert_eq!(pixel(&canvas, 0.0, 0.0), red);
    // The video frame at RTP 100 changed the red tile's region; a newer
    // blue tile inside it came after.
    layer.receive(&number(
        TileMessage::Video {
            screen,
            rtp_timestamp: 100,
            rects: vec![rect(0, 0, 2, 2)],
        }
        .encode(),
    ));
    layer.receive(&number(
        TileMessage::tile(screen, rect(1, 1, 1, 1), &solid(1, 1, [0, 0, 255])).encode(),
    ));
    assert_eq!(drawn(&canvas).as_deref(), Some("2"));
    // Until that frame is on screen the red tile stays: the video under
    // it is older.
    layer.frame_shown(99);
    assert_eq!(pixel(&canvas, 0.0, 0.0), red);
    assert_eq!(pixel(&canvas, 1.0, 1.0), blue);
    // Once it is, the region shows the video, except the newer tile.
    layer.frame_shown(100);
    assert_eq!(pixel(&canvas, 0.0, 0.0), none);
    assert_eq!(pixel(&canvas, 1.0, 0.0), none);
    assert_eq!(pixel(&canvas, 1.0, 1.0), blue);
    assert_eq!(canvas.get_attribute("data-cleared").as_deref(), Some("1"));
    // Malformed messages change nothing: a rectangle off the screen, and
    // pixels that do not fill their tile.
    layer.receive(&number(vec![
        1, 0, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 0, 0, 9, 0, 9, 0,
    ]));
    let short = TileMessage::Tile {
        screen,
        rect: rect(0, 0, 2, 2),
        pixels: vec![0xfe, 1, 2, 3],
    };
    layer.receive(&number(short.encode()));
    assert_eq!(pixel(&canvas, 1.0, 1.0), blue);
    assert_eq!(drawn(&canvas).as_deref(), Some("2"));
    // A frame over the whole screen removes the blue tile; the next one
    // finds no tile there and leaves the canvas alone; a new tile makes
    // the one after clear again.
    let whole_screen = |rtp| {
        number(
            TileMessage::Video {
                screen,
                rtp_timestamp: rtp,
                rects: vec![rect(0, 0, 4, 4)],
            }
            .encode(),
        )
    };
    let cleared = || canvas.get_attribute("data-cleared");
    layer.receive(&whole_screen(200));
    layer.frame_shown(200);
    assert_eq!(pixel(&canvas, 1.0, 1.0), none);
    assert_eq!(cleared().as_deref(), Some("2"));
    layer.receive(&whole_screen(300));
    layer.frame_shown(300);
    assert_eq!(cleared().as_deref(), Some("2"));
    layer.receive(&number(
        TileMessage::tile(screen, rect(3, 3, 1, 1), &solid(1, 1, [255, 0, 0])).encode(),
    ));
    assert_eq!(pixel(&canvas, 3.0, 3.0), red);
    layer.receive(&whole_screen(400));
    layer.frame_shown(400);
    assert_eq!(cleared().as_deref(), Some("3"));
    assert_eq!(pixel(&canvas, 3.0, 3.0), none);
    // Out of order: the first of two tiles arrives after the second; it
    // goes under it, and shows where the second does not reach.
    let reorder = std::cell::Cell::new(sent.get());
    let later = |n: u32, x, rgb| {
        let mut message = TileMessage::tile(screen, rect(x, 0, 2, 1), &solid(2, 1, rgb)).encode();
        tandem_protocol::tiles::stamp(&mut message, reorder.get() + n);
        message
    };
    layer.receive(&later(2, 1, [0, 0, 255]));
    layer.receive(&later(1, 0, [255, 0, 0]));
    assert_eq!(pixel(&canvas, 0.0, 0.0), red);
    assert_eq!(pixel(&canvas, 1.0, 0.0), blue);
    assert_eq!(pixel(&canvas, 2.0, 0.0), blue);
    assert_eq!(canvas.get_attribute("data-late").as_deref(), Some("1"));
    // A message without a number is refused.
    layer.receive(&TileMessage::tile(screen, rect(0, 0, 1, 1), &solid(1, 1, [0, 0, 255])).encode());
    assert_eq!(pixel(&canvas, 0.0, 0.0), red);
}
