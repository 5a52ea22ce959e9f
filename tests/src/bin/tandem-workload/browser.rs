//! The browser workload: the same screen protocol as the X client, drawn
//! by a full-screen Chromium (kiosk mode) on the X display, as real
//! desktops draw: a page that paints its own clock cells and content on
//! every animation frame, with text rendered by the browser.
//!
//! The workload serves the page on loopback and relays what the page
//! reports (`phase`, `key`, `done`) to stdout, so the harness reads one
//! protocol for both workloads. The page starts its phases when `/go`
//! answers, which is when `go` arrives on stdin.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::{TEXT_REGION, source_of_root};

const PAGE: &str = include_str!("page.html");

/// Set once `go` was read from stdin.
type Gate = Arc<(Mutex<bool>, Condvar)>;

/// Serves the page and starts Chromium on it; answers once the page has
/// drawn its first frame.
pub fn run(phase_seconds: u64, source: Option<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let gate: Gate = Arc::new((Mutex::new(false), Condvar::new()));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    {
        let gate = gate.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (gate, source, ready) = (gate.clone(), source.clone(), ready_tx.clone());
                std::thread::spawn(move || serve(stream, &gate, source.as_deref(), &ready));
            }
        });
    }
    let profile = tempfile::tempdir().expect("a profile directory");
    let mut chromium = start_chromium(port, phase_seconds, profile.path());
    if ready_rx.recv_timeout(Duration::from_secs(60)).is_err() {
        let _ = chromium.kill();
        panic!("the browser workload's page did not draw within 60 s");
    }
    println!("ready 1920x1080 browser");
    std::io::stdout().flush().expect("stdout");
    crate::framebuffer::watch();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).expect("stdin");
    {
        let (open, wake) = &*gate;
        *open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
    }
    // Until stdin closes (the harness is done), then Chromium goes too.
    let _ = std::io::stdin().lock().read_line(&mut line);
    let _ = chromium.kill();
    let _ = chromium.wait();
}

fn start_chromium(port: u16, phase_seconds: u64, profile: &std::path::Path) -> Child {
    let binary =
        std::env::var("TANDEM_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    Command::new(binary)
        .args(tandem_tests::CHROMIUM_REQUIRED_ARGS)
        .args([
            "--kiosk",
            "--noerrdialogs",
            "--disable-infobars",
            "--disable-session-crashed-bubble",
            "--password-store=basic",
            "--force-device-scale-factor=1",
            "--window-position=0,0",
            "--window-size=1920,1080",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://127.0.0.1:{port}/?s={phase_seconds}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium (apt-get install chromium)")
}

/// One HTTP/1.1 request: `GET /` (the page), `GET /go` (answers once the
/// run starts), `POST /event` (a protocol line from the page).
fn serve(
    stream: TcpStream,
    gate: &Gate,
    source: Option<&str>,
    ready: &std::sync::mpsc::Sender<()>,
) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0).min(4096);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let answer = match path.split('?').next().unwrap_or("/") {
        "/" => ("text/html; charset=utf-8", PAGE.to_owned()),
        "/go" => {
            let (open, wake) = &**gate;
            let mut opened = open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            while !*opened {
                opened = wake
                    .wait(opened)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            ("text/plain", "go".to_owned())
        }
        "/event" => {
            let line = String::from_utf8_lossy(&body).trim().to_owned();
            if line == "drawn" {
                let _ = ready.send(());
            } else {
                // The text settled in `still`: what the framebuffer holds
                // when the next phase begins is the fidelity source.
                if line.starts_with("phase typing")
                    && let Some(path) = source
                {
                    let (x, y, w, h) = TEXT_REGION;
                    std::fs::write(path, source_of_root(x, y, w, h)).expect("the source file");
                }
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            ("text/plain", String::new())
        }
        _ => ("text/plain", String::new()),
    };
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n{}",
        answer.0,
        answer.1.len(),
        answer.1
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
}
