//! Headless Chromium driven over WebDriver by fantoccini.

use crate::HarnessError;
use crate::network::Inside;
use crate::paths::free_port;
use crate::process::GroupChild;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long a page may take to show what a test waits for.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The flags every Chromium needs on these machines (DEVELOPERS.md), headed
/// or not: no sandbox (root), no GPU, and none of its own network traffic.
pub const CHROMIUM_REQUIRED_ARGS: &[&str] = &[
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The test browsers' flags on top: headless, a fixed window size.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    // Sessions: getDisplayMedia answers with Chromium's fake screen (a
    // green test pattern, 800×450) without a picker, and WebRTC gathers
    // 127.0.0.1 candidates so two browsers connect over loopback.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
];

pub struct Browser {
    // Field order matters: the session closes before the driver stops,
    // and the driver stops before the profile directory is removed.
    client: Client,
    driver: GroupChild,
    profile: TempDir,
    base_url: String,
    /// For a browser in a network namespace: the task that carries
    /// WebDriver's connections into it.
    _forward: Option<crate::network::Forward>,
}

fn chromium_binary() -> String {
    std::env::var("TANDEM_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

async fn start_driver(
    inside: Option<&Inside>,
) -> Result<(GroupChild, String, Option<crate::network::Forward>), HarnessError> {
    let mut last = String::new();
    // A free port can be taken between choosing and binding it: retry.
    for _ in 0..3 {
        let port = free_port()?;
        let mut command = Command::new(
            std::env::var("TANDEM_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        );
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut forward = None;
        let mut reach = port;
        if let Some(inside) = inside {
            inside.wrap(&mut command)?;
            let task = inside
                .forward(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
                .await?;
            reach = task.port();
            forward = Some(task);
        }
        let mut driver = GroupChild::spawn("chromedriver", command)?;
        let url = format!("http://127.0.0.1:{reach}");
        let status = format!("{url}/status");
        let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
        while Instant::now() < deadline && driver.exited().is_none() {
            match reqwest::get(&status).await {
                Ok(response) if response.status().is_success() => {
                    return Ok((driver, url, forward));
                }
                Ok(response) => last = format!("status {}", response.status()),
                Err(error) => last = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(forward);
        last = format!("{last}; exit: {:?}", driver.exited());
    }
    Err(HarnessError::NotReady {
        what: "chromedriver",
        seconds: DRIVER_READY_TIMEOUT.as_secs(),
        details: format!(": {last}"),
    })
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn start(base_url: &str) -> Result<Self, HarnessError> {
        Self::start_inside(None, base_url).await
    }

    /// [`Browser::start`] in a site of a [`crate::network::TestNetwork`].
    pub async fn start_in(inside: &Inside, base_url: &str) -> Result<Self, HarnessError> {
        Self::start_inside(Some(inside), base_url).await
    }

    async fn start_inside(inside: Option<&Inside>, base_url: &str) -> Result<Self, HarnessError> {
        let profile = tempfile::Builder::new()
            .prefix("tandem-chromium-")
            .tempdir()?;
        let (driver, driver_url, forward) = start_driver(inside).await?;
        let mut args: Vec<String> = CHROMIUM_REQUIRED_ARGS
            .iter()
            .chain(CHROMIUM_ARGS)
            .map(|a| (*a).to_owned())
            .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let downloads = profile.path().join("Downloads");
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                "args": args,
                // Downloads land in the profile, without asking.
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
            // A page that never finishes loading (or a script that never
            // returns) fails the command instead of hanging the test.
            "timeouts": { "pageLoad": 30_000, "script": 15_000, "implicit": 0 },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal");
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await?;
        Ok(Self {
            client,
            driver,
            profile,
            base_url: base_url.to_owned(),
            _forward: forward,
        })
    }

    /// Where this browser's downloads land.
    pub fn downloads(&self) -> std::path::PathBuf {
        self.profile.path().join("Downloads")
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The process group of chromedriver and the Chromium it started (for
    /// CPU and memory figures).
    pub fn process_group(&mut self) -> u32 {
        self.driver.child_mut().id()
    }

    /// Ends the WebDriver session (Chromium exits with it).
    pub async fn close(self) {
        let Self {
            client,
            driver,
            profile,
            ..
        } = self;
        let _ = client.close().await;
        drop(driver);
        drop(profile);
    }

    /// Opens `path` on the server under test.
    pub async fn goto(&self, path: &str) -> Result<(), HarnessError> {
        Ok(self
            .client
            .goto(&format!("{}{path}", self.base_url))
            .await?)
    }

    /// Reloads the current page.
    pub async fn reload(&self) -> Result<(), HarnessError> {
        Ok(self.client.refresh().await?)
    }

    /// The current path and query, e.g. `/signin?next=/devices`.
    pub async fn path(&self) -> Result<String, HarnessError> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        })
    }

    /// Waits until the path (with query) is `expected`.
    pub async fn wait_for_path(&self, expected: &str) -> Result<(), HarnessError> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut seen = String::new();
        while Instant::now() < deadline {
            seen = self.path().await?;
            if seen == expected {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("path {expected} (still at {seen})"),
            seconds: UI_TIMEOUT.as_secs(),
        })
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Result<Element, HarnessError> {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|_| HarnessError::Timeout {
                what: format!("element {css}"),
                seconds: UI_TIMEOUT.as_secs(),
            })
    }

    /// Waits until the element matching `css` has a text containing `needle`.
    pub async fn wait_for_text_containing(
        &self,
        css: &str,
        needle: &str,
    ) -> Result<String, HarnessError> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut seen = None;
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let text = element.text().await.unwrap_or_default();
                if text.contains(needle) {
                    return Ok(text);
                }
                seen = Some(text);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("{css} to contain {needle:?} (last seen: {seen:?})"),
            seconds: UI_TIMEOUT.as_secs(),
        })
    }

    /// Waits until the element matching `css` has exactly `expected` as text.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> Result<(), HarnessError> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut seen = None;
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let text = element.text().await.unwrap_or_default();
                if text == expected {
                    return Ok(());
                }
                seen = Some(text);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("{css} to read {expected:?} (last seen: {seen:?})"),
            seconds: UI_TIMEOUT.as_secs(),
        })
    }

    /// The texts of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>, HarnessError> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            texts.push(element.text().await?);
        }
        Ok(texts)
    }

    /// Types into the field matching `css`, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), HarnessError> {
        let field = self.wait_for(css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Clicks the `<label>` whose text is exactly `text` (which toggles or
    /// focuses its control, as a user's click would).
    pub async fn click_label(&self, text: &str) -> Result<(), HarnessError> {
        self.click_xpath(&format!("//label[normalize-space()='{text}']"))
            .await
    }

    /// Clicks the label `text` inside the fieldset whose legend is `legend`.
    pub async fn click_label_in(&self, legend: &str, text: &str) -> Result<(), HarnessError> {
        self.click_xpath(&format!(
            "//fieldset[legend[normalize-space()='{legend}']]//label[normalize-space()='{text}']"
        ))
        .await
    }

    /// Clicks the button whose text is exactly `text`.
    pub async fn click_button(&self, text: &str) -> Result<(), HarnessError> {
        self.click_xpath(&format!("//button[normalize-space()='{text}']"))
            .await
    }

    async fn click_xpath(&self, xpath: &str) -> Result<(), HarnessError> {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::XPath(xpath))
            .await
            .map_err(|_| HarnessError::Timeout {
                what: format!("element {xpath}"),
                seconds: UI_TIMEOUT.as_secs(),
            })?
            .click()
            .await?;
        Ok(())
    }

    /// Chooses the option with visible text `label` in the select `css`.
    pub async fn select(&self, css: &str, label: &str) -> Result<(), HarnessError> {
        self.wait_for(css).await?.select_by_label(label).await?;
        Ok(())
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> Result<(), HarnessError> {
        self.wait_for(css).await?.click().await?;
        Ok(())
    }

    /// Fills and submits the sign-in form on the current page.
    pub async fn submit_sign_in(&self, email: &str, password: &str) -> Result<(), HarnessError> {
        self.fill("#signin-email", email).await?;
        self.fill("#signin-password", password).await?;
        self.click("form button[type=submit]").await
    }

    /// Opens the sign-in page, signs in, and waits for the devices page.
    pub async fn sign_in_as(&self, email: &str) -> Result<(), HarnessError> {
        self.goto("/signin").await?;
        self.submit_sign_in(email, crate::DEMO_PASSWORD).await?;
        self.wait_for_path("/devices").await?;
        self.wait_for_text("h1", "Devices").await?;
        Ok(())
    }

    /// Names of the browser's cookies for the server (HttpOnly included:
    /// WebDriver sees them, page scripts do not).
    pub async fn cookie_names(&self) -> Result<Vec<String>, HarnessError> {
        let cookies = self.client.get_all_cookies().await?;
        Ok(cookies.iter().map(|c| c.name().to_owned()).collect())
    }

    /// Runs `fetch(path)` in the page and returns the JSON body (null if
    /// the answer is not 2xx JSON).
    pub async fn fetch_json(&self, path: &str) -> Result<serde_json::Value, HarnessError> {
        Ok(self
            .client
            .execute_async(
                "const [path, done] = arguments; \
                 fetch(path).then(r => r.ok ? r.json() : null).then(done, () => done(null));",
                vec![serde_json::Value::String(path.to_owned())],
            )
            .await?)
    }

    /// Runs `fetch(path)` in the page and returns the HTTP status.
    pub async fn fetch_status(&self, path: &str) -> Result<u16, HarnessError> {
        let status = self
            .client
            .execute_async(
                "const [path, done] = arguments; \
                 fetch(path).then(r => done(r.status), () => done(0));",
                vec![serde_json::Value::String(path.to_owned())],
            )
            .await?;
        Ok(status
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0))
    }

    /// Runs `fetch(path, {method: "POST"})` with a JSON body in the page;
    /// returns the status and the JSON answer (null if none).
    pub async fn fetch_post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(u16, serde_json::Value), HarnessError> {
        let answer = self
            .client
            .execute_async(
                "const [path, body, done] = arguments; \
                 fetch(path, {method: 'POST', headers: {'content-type': 'application/json'}, \
                   body: JSON.stringify(body)}) \
                 .then(r => r.json().catch(() => null).then(j => done([r.status, j])), \
                   () => done([0, null]));",
                vec![serde_json::Value::String(path.to_owned()), body.clone()],
            )
            .await?;
        let status = answer[0]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(0);
        Ok((status, answer[1].clone()))
    }

    /// Runs an asynchronous `script`: its last argument is the callback
    /// whose value is returned.
    pub async fn eval_async(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, HarnessError> {
        Ok(self.client.execute_async(script, args).await?)
    }

    /// The id of the element that has the keyboard focus ("" if none).
    pub async fn focused_id(&self) -> Result<String, HarnessError> {
        let id = self
            .eval(
                "return (document.activeElement && document.activeElement.id) || '';",
                vec![],
            )
            .await?;
        Ok(id.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the element with id `id` has the keyboard focus.
    pub async fn wait_for_focus(&self, id: &str) -> Result<(), HarnessError> {
        let mut seen = String::new();
        for _ in 0..100 {
            seen = self.focused_id().await?;
            if seen == id {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("the focus on #{id} (it is on #{seen})"),
            seconds: 5,
        })
    }

    /// Whether the element `css` is there and hidden (its `hidden` property).
    pub async fn is_hidden(&self, css: &str) -> Result<bool, HarnessError> {
        let hidden = self
            .eval(
                "const e = document.querySelector(arguments[0]); return !!(e && e.hidden);",
                vec![serde_json::json!(css)],
            )
            .await?;
        Ok(hidden == serde_json::json!(true))
    }

    /// Saves what the browser shows as `docs/screenshots/NAME.png` (the
    /// README links these; each run of the suite takes them anew).
    pub async fn screenshot(&self, name: &str) -> Result<std::path::PathBuf, HarnessError> {
        let png = self.client.screenshot().await?;
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Where the session workspace's parts sit in a `width`×`height`
    /// window: the page must not scroll, the picture must take most of
    /// the window, and the toolbar, Leave and (when there) the chat must
    /// be inside it. Returns the measurements, or says what is off.
    pub async fn workspace_fits(
        &self,
        width: u32,
        height: u32,
    ) -> Result<serde_json::Value, HarnessError> {
        self.client.set_window_size(width, height).await?;
        let mut last = serde_json::Value::Null;
        for _ in 0..50 {
            last = self.eval(WORKSPACE_PROBE, vec![]).await?;
            if last["ok"] == true {
                return Ok(last);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("the workspace to fit {width}×{height}: {last}"),
            seconds: 5,
        })
    }

    /// Waits until `script` (a function body) returns `true` in the page.
    pub async fn wait_for_script_true(&self, script: &str) -> Result<(), HarnessError> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = serde_json::Value::Null;
        while Instant::now() < deadline {
            last = self.eval(script, vec![]).await?;
            if last == serde_json::Value::Bool(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(HarnessError::Timeout {
            what: format!("the page to say true to {script:?} (last: {last})"),
            seconds: UI_TIMEOUT.as_secs(),
        })
    }

    /// Runs `script` (a function body; `arguments` as usual) in the page.
    pub async fn eval(
        &self,
        script: &str,
        args: Vec<serde_json::Value>,
    ) -> Result<serde_json::Value, HarnessError> {
        Ok(self.client.execute(script, args).await?)
    }
}

/// Measures the session workspace in the page (see
/// [`Browser::workspace_fits`]).
const WORKSPACE_PROBE: &str = "
    const vw = window.innerWidth, vh = window.innerHeight;
    const box = (css) => { const e = document.querySelector(css); if (!e) return null;
        const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const inside = (b) => b && b[0] >= 0 && b[1] >= 0 && b[2] <= vw + 0.5 && b[3] <= vh + 0.5 && b[2] > b[0];
    const picture = box('#remote-screen'), surface = box('#remote-surface');
    const toolbar = box('.screen-tools'), leave = box('#leave-button'), chat = box('#chat-input');
    const ws = document.querySelector('#workspace');
    const scrolls = !ws || ws.scrollHeight > ws.clientHeight + 1 || ws.scrollWidth > ws.clientWidth + 1
        || getComputedStyle(document.body).overflow !== 'hidden';
    const area = (b) => b ? (b[2] - b[0]) * (b[3] - b[1]) : 0;
    const share = area(surface) / (vw * vh);
    const ok = !scrolls && inside(toolbar) && inside(leave) && inside(surface) && inside(picture)
        && (chat === null || inside(chat)) && share > 0.5 && area(picture) > 0.3 * vw * vh;
    return { ok, vw, vh, scrolls, share, picture, surface, toolbar, leave, chat };";
