//! Session records end to end: a `kill -9` of the server loses no
//! acknowledged transition; the monitor page and the sessions report show
//! the sessions the test ran, in headless Chromium, live, and the CSV
//! matches; and text typed and chatted through a session never reaches the
//! database file or the server's log.

use crate::agent::{enrolled_desktop, wait_for_file};
use crate::session::as_user;
use serde_json::{Value, json};
use std::time::Duration;
use tandem_tests::desktop::KEEP_CHANNELS;
use tandem_tests::flows::{Ask, grant, join_with_code, pair_browser};
use tandem_tests::{Browser, DEMO_PASSWORD, Database, Env, e2e_on};
use tandem_tests::{ServerOptions, TestServer};

/// A person talking to the API directly (no browser), with their cookie.
struct Person {
    http: reqwest::Client,
    base: String,
}

impl Person {
    async fn sign_in(server: &TestServer, email: &str) -> Person {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let person = Person {
            http,
            base: server.base_url().to_owned(),
        };
        let login = json!({ "email": email, "password": DEMO_PASSWORD });
        let (status, _) = person.post("/api/auth/login", &login).await;
        assert_eq!(status, 200, "{email} signs in");
        person
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.post(path, &body).await;
        assert_eq!(status, 200, "POST {path}: {answer}");
        answer
    }
}

/// Megan's code, entered by Lynne; returns the session id.
async fn redeemed(megan: &Person, lynne: &Person) -> String {
    let (status, issued) = megan.post("/api/sessions", &json!({})).await;
    assert_eq!(status, 201, "{issued}");
    let id = issued["session"]["id"].as_str().unwrap().to_owned();
    lynne
        .ok("/api/sessions/redeem", json!({ "code": issued["code"] }))
        .await;
    id
}

fn steps(detail: &Value) -> Vec<String> {
    detail["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["what"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_kill_9_never_loses_an_acknowledged_transition() {
    a_kill_9_never_loses_an_acknowledged_transition_on(Database::Sqlite).await;
}

#[tokio::test]
async fn a_kill_9_on_postgres_never_loses_an_acknowledged_transition() {
    a_kill_9_never_loses_an_acknowledged_transition_on(Database::Postgres).await;
}

async fn a_kill_9_never_loses_an_acknowledged_transition_on(database: Database) {
    let mut server = TestServer::start_with(ServerOptions {
        database,
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let megan = Person::sign_in(&server, "megan@contoso.test").await;
    let lynne = Person::sign_in(&server, "lynne@contoso.test").await;
    let id = redeemed(&megan, &lynne).await;
    let path = |action: &str| format!("/api/sessions/{id}/{action}");
    megan.ok(&path("request"), json!({"mode": "view"})).await;
    lynne.ok(&path("consent"), json!({"allow": true})).await;

    // Lynne pauses and resumes as fast as the server answers; the server
    // is killed in the middle of it. Every answered transition must be on
    // disk afterwards.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let flipping = {
        let acknowledged = acknowledged.clone();
        let (http, base) = (lynne.http.clone(), lynne.base.clone());
        let id = id.clone();
        tokio::spawn(async move {
            for n in 0.. {
                let action = if n % 2 == 0 { "pause" } else { "resume" };
                let sent = http
                    .post(format!("{base}/api/sessions/{id}/{action}"))
                    .json(&json!({}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    _ => break,
                }
            }
        })
    };
    while acknowledged.load(std::sync::atomic::Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill_9_and_restart().await.unwrap();
    // The loop stops at its first failed request: the kill.
    flipping.await.unwrap();
    let answered = acknowledged.load(std::sync::atomic::Ordering::SeqCst);

    let admin = Person::sign_in(&server, "admin@contoso.test").await;
    let detail = admin.get(&format!("/api/reports/sessions/{id}")).await;
    let steps = steps(&detail);
    let flips = steps
        .iter()
        .filter(|s| s.ends_with("paused the session.") || s.ends_with("resumed the session."))
        .count();
    // At most one more: a transition committed whose answer the kill cut off.
    assert!(
        flips == answered || flips == answered + 1,
        "{answered} answered, {flips} on disk: {steps:?}"
    );
    let first: Vec<&str> = steps.iter().take(4).map(String::as_str).collect();
    assert_eq!(
        first,
        [
            "Megan Bowen got a security code.",
            "Lynne Robbins entered the code.",
            "Megan Bowen asked for view only.",
            "Lynne Robbins allowed the request.",
        ]
    );
    // The session itself survived with the last state, and goes on.
    let megan = Person::sign_in(&server, "megan@contoso.test").await;
    let view = megan.get(&format!("/api/sessions/{id}")).await;
    let phase = view["phase"].as_str().unwrap().to_owned();
    assert_eq!(
        phase,
        if flips % 2 == 1 { "paused" } else { "active" },
        "{view}"
    );
    megan.ok(&path("leave"), json!({})).await;
    let detail = admin.get(&format!("/api/reports/sessions/{id}")).await;
    assert_eq!(detail["report"]["outcome"], "completed");
    assert_eq!(detail["report"]["pause_used"], true);
}

/// Runs a few sessions through the API: completed (a browser sharer:
/// view only, and a request for full control is refused since nothing on
/// her side could carry it out), a refusal, a declined one, and one of
/// Megan's codes tried by another organization's admin first.
async fn a_day_of_sessions(server: &TestServer) -> (String, String) {
    let megan = Person::sign_in(server, "megan@contoso.test").await;
    let lynne = Person::sign_in(server, "lynne@contoso.test").await;
    let alex = Person::sign_in(server, "alex@contoso.test").await;
    let diego = Person::sign_in(server, "diego@contoso.test").await;
    let fabrice = Person::sign_in(server, "admin@fabrikam.test").await;
    let completed = redeemed(&megan, &lynne).await;
    let path = |id: &str, action: &str| format!("/api/sessions/{id}/{action}");
    megan
        .ok(&path(&completed, "request"), json!({"mode": "view"}))
        .await;
    lynne
        .ok(&path(&completed, "consent"), json!({"allow": true}))
        .await;
    let (status, refused) = megan
        .post(&path(&completed, "request"), &json!({"mode": "control"}))
        .await;
    assert_eq!(status, 409, "{refused}");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    lynne.ok(&path(&completed, "leave"), json!({})).await;
    // Alex's scope is Finance; Diego is in Sales.
    let (_, issued) = alex.post("/api/sessions", &json!({})).await;
    let (status, _) = diego
        .post("/api/sessions/redeem", &json!({"code": issued["code"]}))
        .await;
    assert_eq!(status, 403);
    // Fabrikam's admin gets Megan's code: a wrong code to him, and the
    // session waits for Lynne as before.
    let (status, issued) = megan.post("/api/sessions", &json!({})).await;
    assert_eq!(status, 201, "{issued}");
    let declined = issued["session"]["id"].as_str().unwrap().to_owned();
    let (status, answer) = fabrice
        .post("/api/sessions/redeem", &json!({"code": issued["code"]}))
        .await;
    assert_eq!(
        (status, answer["type"].as_str()),
        (400, Some("/problems/wrong-code"))
    );
    lynne
        .ok("/api/sessions/redeem", json!({ "code": issued["code"] }))
        .await;
    megan
        .ok(&path(&declined, "request"), json!({"mode": "view"}))
        .await;
    lynne
        .ok(&path(&declined, "consent"), json!({"allow": false}))
        .await;
    (completed, declined)
}

#[tokio::test]
async fn the_monitor_and_the_report_show_the_sessions_live_and_the_csv_matches() {
    the_monitor_and_the_report_show_the_sessions_live_and_the_csv_matches_on(Database::Sqlite)
        .await;
}

#[tokio::test]
async fn the_monitor_and_the_report_on_postgres_show_the_sessions_live() {
    the_monitor_and_the_report_show_the_sessions_live_and_the_csv_matches_on(Database::Postgres)
        .await;
}

async fn the_monitor_and_the_report_show_the_sessions_live_and_the_csv_matches_on(
    database: Database,
) {
    e2e_on(database, async |env| {
        let (completed, _declined) = a_day_of_sessions(&env.server).await;
        let admin = &env.browser;
        as_user(admin, "admin@contoso.test").await;
        admin.goto("/monitor").await.unwrap();
        admin
            .wait_for_text_containing("#feed-state", "Live")
            .await
            .unwrap();
        admin
            .wait_for_text("#active-count", "0 active sessions")
            .await
            .unwrap();
        // A session starts: the page shows it without a reload.
        let megan = Person::sign_in(&env.server, "megan@contoso.test").await;
        let (_, issued) = megan.post("/api/sessions", &json!({})).await;
        admin
            .wait_for_text("#active-count", "1 active session")
            .await
            .unwrap();
        admin
            .wait_for_text_containing("#active-table", "Waiting for the sharer")
            .await
            .unwrap();
        let live = issued["session"]["id"].as_str().unwrap().to_owned();
        // The administrator ends it from the monitor, after confirming.
        admin
            .wait_for(&format!(
                "#active-table tr[data-session='{live}'] .end-session"
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        admin.click(".end-confirm").await.unwrap();
        admin
            .wait_for_text("#active-count", "0 active sessions")
            .await
            .unwrap();
        let ended = megan.get(&format!("/api/sessions/{live}")).await;
        assert_eq!(
            ended["ended"],
            json!({"outcome": "stopped", "cause": "ended_by_admin"})
        );
        admin.reload().await.unwrap();
        admin.wait_for("#day-chart").await.unwrap();

        // The chart's last bar is today: four sessions. Outcomes, the mean
        // and the busiest helper follow.
        let today = admin
            .eval(
                "const bars = document.querySelectorAll('#day-chart g.bar');
                 return [bars.length, bars[bars.length - 1].dataset.sessions,
                         document.querySelector('#day-chart').getAttribute('role'),
                         document.querySelector('#day-chart title').textContent];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            today,
            json!([30, "4", "img", "Sessions per day, last 30 days"])
        );
        let outcomes = admin
            .eval(
                "return Array.from(document.querySelectorAll('#outcome-chart g.outcome'))
                   .map(g => g.dataset.outcome + '=' + g.dataset.sessions);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(outcomes, json!(["completed=2", "declined=1", "refused=1"]));
        let busiest = admin.texts("#busiest-helpers li").await.unwrap();
        assert_eq!(busiest.first().map(String::as_str), Some("Megan Bowen (3)"));
        let mean = admin.texts("#average-duration").await.unwrap();
        assert!(mean[0].ends_with(" s"), "{mean:?}");
        let unusual = admin.texts("#unusual li").await.unwrap();
        assert!(
            unusual
                .iter()
                .any(|u| u.contains("Someone of another organization entered 1")),
            "{unusual:?}"
        );
        // Nobody used elevation: a browser sharer cannot even be controlled.
        assert!(
            !unusual.iter().any(|u| u.contains("elevation")),
            "{unusual:?}"
        );

        // The pattern links to that day's sessions in the report.
        admin
            .click("#unusual li[data-kind=repeated_code_failures] a")
            .await
            .unwrap();
        admin
            .wait_for(&format!("#report-table tr[data-session='{completed}']"))
            .await
            .unwrap();
        assert_eq!(
            admin.texts("#report-table tbody tr").await.unwrap().len(),
            4
        );

        // The whole report, sorted by helper; the CSV has the same rows.
        admin.goto("/reports?sort=helper").await.unwrap();
        admin.wait_for("#report-table tbody tr").await.unwrap();
        let rows = admin
            .eval(
                "return Array.from(document.querySelectorAll('#report-table tbody tr'))
                   .map(tr => tr.dataset.session);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(rows.as_array().unwrap().len(), 4, "{rows}");
        let href = admin
            .eval(
                "return document.querySelector('#export-csv').getAttribute('href');",
                vec![],
            )
            .await
            .unwrap();
        let csv = admin
            .eval_async(
                "const [href, done] = arguments;
                 fetch(href).then(r => r.text()).then(done);",
                vec![href],
            )
            .await
            .unwrap();
        let csv = csv.as_str().unwrap();
        let csv_ids: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        let row_ids: Vec<&str> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(csv_ids, row_ids, "{csv}");
        assert!(csv.starts_with("session_id,tenant,helper_id,helper_name"));

        // Filtering by outcome, then the record itself.
        admin
            .select("#filter-outcome", "Refused by policy")
            .await
            .unwrap();
        admin.click_button("Apply").await.unwrap();
        admin
            .wait_for_text_containing("#report-table caption", "1 session")
            .await
            .unwrap();
        assert!(admin.path().await.unwrap().contains("outcome=refused"));
        admin.goto(&format!("/reports/{completed}")).await.unwrap();
        admin
            .wait_for_text_containing("#report-facts", "Lynne Robbins")
            .await
            .unwrap();
        let facts = admin.texts("#report-facts dd").await.unwrap();
        assert!(facts.contains(&"Completed".to_owned()), "{facts:?}");
        let steps = admin.texts("#report-steps li").await.unwrap();
        assert!(
            steps
                .iter()
                .any(|s| s.contains("Megan Bowen asked for view only.")),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| s.contains("full control")),
            "a refused request changes nothing, so it is no step: {steps:?}"
        );

        // Alex, without Read session reports, sees only the session he
        // helped in (the refused one).
        as_user(admin, "alex@contoso.test").await;
        admin.goto("/reports").await.unwrap();
        admin
            .wait_for_text_containing("#report-table caption", "1 session")
            .await
            .unwrap();
        assert_eq!(
            admin.fetch_status("/api/reports/monitor").await.unwrap(),
            403
        );
    })
    .await;
}

/// Where the server keeps its database (and its log).
fn stored_files(server: &TestServer) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(server.data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect()
}

fn hits(bytes: &[u8], needle: &str) -> usize {
    bytes
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

#[tokio::test]
async fn typed_and_chatted_text_never_reaches_the_store_or_the_logs() {
    let options = ServerOptions {
        // Everything the server would ever log, at every level but trace.
        log_filter: Some("debug".into()),
        ..ServerOptions::default()
    };
    let server = TestServer::start_with(options).await.unwrap();
    let browser = Browser::start(server.base_url()).await.unwrap();
    Env { server, browser }
        .run(async |env| {
            let unique = format!("zq{}x", std::process::id() * 7919 % 1_000_000 + 100_000);
            let ticket = format!("TCK{unique}");
            let work = tempfile::tempdir().unwrap();
            let (_xvfb, _term, agent, path) = enrolled_desktop(env, work.path()).await;
            let helper = &env.browser;
            let sharer = Browser::start(env.server.base_url()).await.unwrap();
            as_user(helper, "megan@contoso.test").await;
            as_user(&sharer, "lynne@contoso.test").await;
            pair_browser(&sharer, &path).await.unwrap();
            let code = crate::session::assist(helper).await;
            helper.eval(KEEP_CHANNELS, vec![]).await.unwrap();
            join_with_code(helper, &sharer, &code).await.unwrap();
            grant(helper, &sharer, Ask::FullControl).await.unwrap();
            let surface = helper
                .wait_for("#remote-surface.controlling")
                .await
                .unwrap();

            // Typed into the xterm through full control: it arrives there.
            surface
                .send_keys(&format!("echo {unique} > typed\u{E007}"))
                .await
                .unwrap();
            let typed = work.path().join("typed");
            assert!(
                wait_for_file(&typed, true, Duration::from_secs(15)).await,
                "the typed line ran; agent said:\n{}",
                agent.output()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            let written = std::fs::read_to_string(&typed).unwrap();
            assert_eq!(written.trim(), unique);

            // Chatted both ways: each side reads the other's line.
            helper
                .fill("#chat-input", &format!("helper says {unique}"))
                .await
                .unwrap();
            helper.click_button("Send").await.unwrap();
            sharer
                .wait_for_text_containing("#chat-log", &format!("helper says {unique}"))
                .await
                .unwrap();
            sharer
                .fill("#chat-input", &format!("sharer says {unique}"))
                .await
                .unwrap();
            sharer.click_button("Send").await.unwrap();
            helper
                .wait_for_text_containing("#chat-log", &format!("sharer says {unique}"))
                .await
                .unwrap();

            // The ticket reference is stored: it proves the search below
            // reads what the server writes.
            helper.fill("#ticket-input", &ticket).await.unwrap();
            helper.click_button("Save").await.unwrap();
            helper
                .wait_for_text_containing("#ticket-status", &ticket)
                .await
                .unwrap();
            sharer.click_button("Leave").await.unwrap();
            helper
                .wait_for_text_containing("#session-status", "Session ended")
                .await
                .unwrap();
            // The device's own log: start and end, with the helper and mode.
            let mut syslog = Vec::new();
            for _ in 0..50 {
                syslog = agent.syslog();
                if syslog.iter().any(|l| l.contains("ended")) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                syslog.iter().any(|l| l.starts_with("<37>tandem-agent[")
                    && l.contains("started: helper Megan Bowen, full control")),
                "{syslog:?}"
            );
            assert!(
                syslog
                    .iter()
                    .any(|l| l.contains("with helper Megan Bowen ended")),
                "{syslog:?}"
            );
            assert!(syslog.iter().all(|l| !l.contains(&unique)), "{syslog:?}");
            let report = helper.fetch_json("/api/reports/sessions").await.unwrap();
            assert_eq!(report["items"][0]["chat_used"], true, "{report}");
            assert!(
                report["items"][0]["control_ms"].as_i64() > Some(0),
                "{report}"
            );
            sharer.close().await;

            // The database (with its WAL), and every log line: no trace.
            let mut found_ticket = 0;
            for file in stored_files(&env.server) {
                let bytes = std::fs::read(&file).unwrap();
                assert_eq!(
                    hits(&bytes, &unique) - hits(&bytes, &ticket),
                    0,
                    "{} holds the typed or chatted text",
                    file.display()
                );
                if !file.ends_with("server.log") {
                    found_ticket += hits(&bytes, &ticket);
                }
            }
            assert!(found_ticket > 0, "the ticket is in the database files");
            let log = env.server.log();
            assert!(
                log.contains("session transition"),
                "the log is the server's"
            );
            assert_eq!(
                hits(log.as_bytes(), &unique) - hits(log.as_bytes(), &ticket),
                0
            );
        })
        .await;
}
