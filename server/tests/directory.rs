//! Router tests of the admin directory: search, paging, CSV imports.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod support;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use support::{App, app, body_bytes};
use tandem_protocol::routes;
use tandem_server::seed::DEMO_PASSWORD;

async fn import(app: &App, cookie: &str, kind: &str, csv: &str) -> (StatusCode, Value) {
    let path = routes::with_id(routes::ADMIN_IMPORT, kind);
    let response = app
        .call(
            Method::POST,
            &path,
            Some(&Value::String(csv.into())),
            Some(cookie),
        )
        .await;
    let status = response.status();
    (
        status,
        serde_json::from_slice(&body_bytes(response).await).unwrap(),
    )
}

fn names(page: &Value, key: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn users_are_searched_and_paged() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let all = app
        .get_json(&format!("{}?per_page=2", routes::ADMIN_USERS), &admin)
        .await;
    assert_eq!(all["total"], 5);
    assert_eq!(names(&all, "display_name"), ["Adele Vance", "Alex Wilber"]);
    let page3 = app
        .get_json(
            &format!("{}?per_page=2&page=3", routes::ADMIN_USERS),
            &admin,
        )
        .await;
    assert_eq!(names(&page3, "display_name"), ["Megan Bowen"]);
    let found = app
        .get_json(&format!("{}?q=LYNNE", routes::ADMIN_USERS), &admin)
        .await;
    assert_eq!(names(&found, "email"), ["lynne@contoso.test"]);
    assert_eq!(found["items"][0]["groups"], serde_json::json!(["Finance"]));
    // Wildcards are literal: nobody's name contains "%".
    let none = app
        .get_json(&format!("{}?q=%25", routes::ADMIN_USERS), &admin)
        .await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn a_device_import_is_all_or_nothing() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let header = "name,os,os_version,primary_user_email,enrolled,compliance";
    let bad = format!(
        "{header}\nPC-1,Windows,11,lynne@contoso.test,true,compliant\nPC-2,Windows,11,nobody@x.test,yes,compliant\nPC-3,,11,,maybe,wrong\n"
    );
    let (status, report) = import(&app, &admin, "devices", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{report}");
    assert_eq!(problems[0]["line"], 3);
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("no user nobody@x.test")
    );
    assert_eq!(problems[1]["line"], 4);
    let devices = app
        .get_json(&format!("{}?q=PC-", routes::ADMIN_DEVICES), &admin)
        .await;
    assert_eq!(devices["total"], 0, "nothing was written");

    let good = format!(
        "{header}\nPC-1,Windows,11,lynne@contoso.test,true,compliant\nkiosk-lobby,Windows,11 LTSC,,no,compliant\n"
    );
    let (status, report) = import(&app, &admin, "devices", &good).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (1.into(), 1.into())
    );
    let kiosk = app
        .get_json(&format!("{}?q=kiosk", routes::ADMIN_DEVICES), &admin)
        .await;
    assert_eq!(
        kiosk["items"][0]["os_version"], "11 LTSC",
        "matched by name, case-insensitively"
    );
    assert_eq!(
        kiosk["items"][0]["compliance"], "non_compliant",
        "unenrolled is never compliant"
    );
}

#[tokio::test]
async fn users_and_groups_import_and_then_sign_in() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let users = "email,display_name,job_title,company,password\n\
                 Omar@Contoso.test,Omar Haddad,Technician,Contoso,omar-pass-123\n\
                 megan@contoso.test,Megan B.,Lead,Contoso,\n";
    let (status, report) = import(&app, &admin, "users", users).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(
        app.login("omar@contoso.test", "omar-pass-123")
            .await
            .status(),
        StatusCode::OK
    );

    let groups = "group,member_email\nNight Desk,omar@contoso.test\nEmpty Group,\n";
    let (status, report) = import(&app, &admin, "groups", groups).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let page = app
        .get_json(&format!("{}?q=desk", routes::ADMIN_GROUP_LIST), &admin)
        .await;
    assert_eq!(
        names(&page, "name"),
        ["Help Desk", "Help Desk Trainees", "Night Desk"]
    );
    assert_eq!(page["items"][2]["members"], 1);

    // Another organization's address, and a wrong header, are refused.
    let fabrikam = "email,display_name,job_title,company,password\nadmin@fabrikam.test,X,,,\n";
    let (status, report) = import(&app, &admin, "users", fabrikam).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another organization")
    );
    let (status, report) = import(&app, &admin, "users", "mail,name\nx@y.z,X\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(report["problems"][0]["line"], 1);

    let audit = app.get_json(routes::ADMIN_AUDIT, &admin).await;
    let imports = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "directory.import")
        .count();
    assert_eq!(imports, 2, "one entry per successful import");
}

#[tokio::test]
async fn group_members_are_managed_without_touching_idp_memberships() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let created = app
        .call(
            Method::POST,
            routes::ADMIN_GROUPS,
            Some(&serde_json::json!({ "name": "Night Desk" })),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let group: Value = serde_json::from_slice(&body_bytes(created).await).unwrap();
    let members = routes::with_id(routes::ADMIN_GROUP_MEMBERS, group["id"].as_str().unwrap());
    let body = serde_json::json!({ "emails": ["Lynne@contoso.test", "diego@contoso.test"] });
    let response = app
        .call(Method::PUT, &members, Some(&body), Some(&admin))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list = app.get_json(&members, &admin).await;
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Diego Siciliani", "Lynne Robbins"]);

    let foreign = serde_json::json!({ "emails": ["admin@fabrikam.test"] });
    let response = app
        .call(Method::PUT, &members, Some(&foreign), Some(&admin))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get_json(&members, &admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        2,
        "unchanged"
    );

    let dup = app
        .call(
            Method::POST,
            routes::ADMIN_GROUPS,
            Some(&serde_json::json!({ "name": "Night Desk" })),
            Some(&admin),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    let gone = routes::with_id(routes::ADMIN_GROUP, group["id"].as_str().unwrap());
    assert_eq!(
        app.call(Method::DELETE, &gone, None, Some(&admin))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&members, Some(&admin)).await.status(),
        StatusCode::NOT_FOUND
    );
}

const USERS_HEADER: &str = "email,display_name,job_title,company,password";

#[tokio::test]
async fn an_import_changes_existing_passwords_only_when_asked_and_the_audit_names_whom() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let csv = format!(
        "{USERS_HEADER}\nnew.hire@contoso.test,New Hire,,,first-pass-123\n\
         megan@contoso.test,Megan Bowen,,,taken-over-456\n"
    );
    let (status, report) = import(&app, &admin, "users", &csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["line"], 3);
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.contains("megan@contoso.test") && message.contains("set_passwords=true"),
        "{message}"
    );
    // Nothing was written: Megan's password is unchanged, nobody was created.
    assert_eq!(
        app.login("megan@contoso.test", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("new.hire@contoso.test", "first-pass-123")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let path = format!(
        "{}?set_passwords=true",
        routes::with_id(routes::ADMIN_IMPORT, "users")
    );
    let response = app
        .call(Method::POST, &path, Some(&Value::String(csv)), Some(&admin))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.login("megan@contoso.test", "taken-over-456")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("new.hire@contoso.test", "first-pass-123")
            .await
            .status(),
        StatusCode::OK
    );

    let audit = app.get_json(routes::ADMIN_AUDIT, &admin).await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "directory.import")
        .expect("the import is audited")
        .to_string();
    for named in [
        "new.hire@contoso.test",
        "megan@contoso.test",
        "passwords_set",
    ] {
        assert!(entry.contains(named), "{named} in {entry}");
    }
    for secret in ["first-pass-123", "taken-over-456", "argon2"] {
        assert!(!entry.contains(secret), "{secret} in {entry}");
    }
}

#[tokio::test]
async fn import_fields_are_bounded_and_hidden_characters_refused() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let huge = "x".repeat(1536 * 1024);
    let long_email = format!("{}@contoso.test", "a".repeat(250));
    let lines = [
        format!("big@contoso.test,{huge},,,"),
        "rtl@contoso.test,Ann \u{202e}gnp.exe,,,".to_owned(),
        "zw@contoso.test,A\u{200b}nn,,,".to_owned(),
        "esc@contoso.test,\"Eve\u{1b}[2K\r\u{1b}[8m\",,,".to_owned(),
        format!("job@contoso.test,Job,{},,", "j".repeat(201)),
        format!("{long_email},Long,,,"),
    ];
    let csv = format!("{USERS_HEADER}\n{}\n", lines.join("\n"));
    let (status, report) = import(&app, &admin, "users", &csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let problems: Vec<(u64, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems.iter().map(|p| p.0).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 7],
        "{problems:?}"
    );
    assert_eq!(problems[0].1, "The name is longer than 200 characters.");
    for (_, message) in &problems[1..4] {
        assert!(
            message.starts_with("The name contains control characters or invisible"),
            "{message}"
        );
    }
    assert_eq!(
        problems[4].1,
        "The job title is longer than 200 characters."
    );
    assert!(problems[5].1.contains("is not an e-mail address"));
    assert!(
        report.to_string().len() < 64 * 1024,
        "the report never echoes the huge cell"
    );
    let users = app
        .get_json(&format!("{}?q=contoso", routes::ADMIN_USERS), &admin)
        .await;
    assert_eq!(users["total"], 5, "nothing was written");

    // Devices and groups are held to the same characters.
    let devices = "name,os,os_version,primary_user_email,enrolled,compliance\n\
                   PC\u{2066}1,Windows,11,,true,compliant\n";
    let (status, report) = import(&app, &admin, "devices", devices).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
    let groups = "group,member_email\nNight\u{feff} Desk,\n";
    let (status, report) = import(&app, &admin, "groups", groups).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{report}");
}

#[tokio::test]
async fn the_user_form_refuses_hidden_characters_with_a_problem_naming_the_field() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    for (field, value) in [
        ("display_name", "Eve\u{1b}[2K\r\u{1b}[8m"),
        ("display_name", "Ann \u{202e}gnp.exe"),
        ("job_title", "Lead\u{200b}"),
        ("company", "\u{feff}Contoso"),
    ] {
        let mut body = serde_json::json!({
            "email": "eve@contoso.test",
            "display_name": "Eve",
        });
        body[field] = value.into();
        let response = app
            .call(Method::POST, routes::ADMIN_USERS, Some(&body), Some(&admin))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        let problem = support::problem(response).await;
        let named = match field {
            "display_name" => "The name",
            "job_title" => "The job title",
            _ => "The company",
        };
        assert!(
            problem.message().starts_with(named) && problem.message().contains("invisible"),
            "{field}: {}",
            problem.message()
        );
    }
}

#[tokio::test]
async fn an_import_has_at_most_ten_thousand_lines() {
    let app = app().await;
    let admin = app.sign_in("admin@contoso.test").await;
    let mut csv = String::from("group,member_email\n");
    for i in 0..=10_000 {
        csv.push_str(&format!("Group {i},\n"));
    }
    let (status, report) = import(&app, &admin, "groups", &csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        report["problems"][0]["line"], 10_002,
        "{}",
        report["problems"]
    );
    assert!(
        report["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10000 lines")
    );
}
