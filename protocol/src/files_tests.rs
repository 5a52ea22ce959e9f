#![allow(clippy::unwrap_used)]
use super::*;

#[test]
fn names_cannot_leave_the_folder_or_hide() {
    for (claimed, safe) in [
        ("report.pdf", "report.pdf"),
        ("../../x", "x"),
        ("..\\..\\Windows\\System32\\evil.dll", "evil.dll"),
        ("/etc/passwd", "passwd"),
        ("a/b/", "b"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("   ", "file"),
        (".bashrc", "bashrc"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Lpt1.tar.gz", "_Lpt1.tar.gz"),
        ("COM10", "COM10"),
        ("a\0b", "a_b"),
        ("a:b*c?.txt", "a_b_c_.txt"),
        ("evil\u{202e}fdp.exe", "evil_fdp.exe"),
        ("name. . ", "name"),
        ("line\nbreak.txt", "line_break.txt"),
    ] {
        assert_eq!(safe_file_name(claimed), safe, "{claimed:?}");
    }
}

#[test]
fn long_names_are_cut_on_a_character_boundary_keeping_the_extension() {
    let long = format!("{}.pdf", "é".repeat(10_000));
    let safe = safe_file_name(&long);
    assert!(safe.len() <= MAX_NAME_BYTES, "{}", safe.len());
    assert!(safe.ends_with(".pdf"));
    assert_eq!(safe_file_name(&safe), safe);
    let no_extension = "x".repeat(10_000);
    assert_eq!(safe_file_name(&no_extension).len(), MAX_NAME_BYTES);
    // A reserved device name that only the cut uncovers (found by the
    // `file_name` fuzz target): still neutralised, and stable.
    let uncovered = format!("lpt4{}x.txt", " ".repeat(300));
    assert_eq!(safe_file_name(&uncovered), "_lpt4.txt");
    let exactly = format!("con.{}", "b".repeat(MAX_NAME_BYTES - 4));
    let safe = safe_file_name(&exactly);
    assert!(safe.len() <= MAX_NAME_BYTES, "{}", safe.len());
    assert!(safe.starts_with("_con"), "{safe}");
    assert_eq!(safe_file_name(&safe), safe);
}

#[test]
fn numbered_names_stay_within_the_bound() {
    assert_eq!(numbered_name("report.pdf", 2), "report (2).pdf");
    assert_eq!(numbered_name("README", 1), "README (1)");
    assert_eq!(numbered_name(".x", 1), ".x (1)");
    let long = safe_file_name(&format!("{}.pdf", "é".repeat(300)));
    let numbered = numbered_name(&long, 999);
    assert!(numbered.len() <= MAX_NAME_BYTES);
    assert!(numbered.ends_with(" (999).pdf"));
    let odd = safe_file_name(&format!("a.{}", "b".repeat(300)));
    assert!(numbered_name(&odd, 7).len() <= MAX_NAME_BYTES);
}

#[test]
fn chunks_round_trip_and_refuse_what_does_not_fit() {
    let data = vec![7u8; CHUNK_BYTES];
    let chunk = Chunk {
        id: 9,
        offset: 1 << 20,
        data: &data,
    };
    let bytes = chunk.encode();
    assert_eq!(Chunk::parse(&bytes).unwrap(), chunk);
    let mut over = bytes.clone();
    over.push(0);
    assert!(matches!(
        Chunk::parse(&over),
        Err(MessageError::TooLarge { .. })
    ));
    assert!(
        Chunk::parse(&bytes[..CHUNK_HEADER_BYTES]).is_err(),
        "no data"
    );
    assert!(Chunk::parse(&bytes[..5]).is_err(), "short header");
    let mut tag = bytes.clone();
    tag[0] = b'{';
    assert!(Chunk::parse(&tag).is_err());
    let far = Chunk {
        id: 1,
        offset: MAX_FILE_LIMIT,
        data: &[1],
    };
    assert!(Chunk::parse(&far.encode()).is_err());
}

#[test]
fn messages_parse_within_their_bounds() {
    let offer = FileMessage::Offer {
        id: 1,
        name: "a.txt".into(),
        size: 20_000_000,
    };
    let json = serde_json::to_vec(&offer).unwrap();
    assert_eq!(FileMessage::parse(&json).unwrap(), offer);
    for bad in [
        r#"{"type":"offer","id":1,"name":"a","size":99999999999999}"#,
        r#"{"type":"request","id":1,"path":""}"#,
        r#"{"type":"end","id":1,"sha256":"abc"}"#,
        r#"{"type":"end","id":1,"sha256":"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"}"#,
        r#"{"type":"go","id":1,"offset":-1}"#,
        r#"{"type":"shout"}"#,
    ] {
        assert!(FileMessage::parse(bad.as_bytes()).is_err(), "{bad}");
    }
    let huge = format!(
        r#"{{"type":"request","id":1,"path":"{}"}}"#,
        "a".repeat(9000)
    );
    assert!(matches!(
        FileMessage::parse(huge.as_bytes()),
        Err(MessageError::TooLarge { .. })
    ));
    let end = FileMessage::End {
        id: 3,
        sha256: hex(&[0xab; 32]),
    };
    assert_eq!(
        FileMessage::parse(&serde_json::to_vec(&end).unwrap()).unwrap(),
        end
    );
}

#[test]
fn remote_and_long_paths_are_recognised_and_shown_short() {
    for remote in [r"\\host\share\x", "//host/share/x", r"\\?\C:\x", r"\/x"] {
        assert!(is_remote_path(remote), "{remote}");
    }
    for local in ["/etc/hosts", r"C:\Users\a.txt", "x", ""] {
        assert!(!is_remote_path(local), "{local}");
    }
    let long = format!("/{}/credentials", "d".repeat(1000));
    let shown = shown_path(&long);
    assert_eq!(shown.chars().count(), MAX_SHOWN_PATH_CHARS);
    assert!(shown.starts_with('\u{2026}') && shown.ends_with("/credentials"));
    assert_eq!(
        shown_path("/home/u/.aws/credentials"),
        "/home/u/.aws/credentials"
    );
    assert_eq!(shown_path("/a\u{202e}b\nc"), "/ab c");
}

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(size_text(812), "812 B");
    assert_eq!(size_text(20_000_000), "20.0 MB");
    assert_eq!(size_text(100_000_000), "100 MB");
    assert_eq!(size_text(1_500_000_000), "1.50 GB");
    assert_eq!(size_text(1_000), "1.00 KB");
}

#[test]
fn notices_are_bounded() {
    let notice = FileNotice {
        id: 1,
        direction: FileDirection::ToDevice,
        name: "a.txt".into(),
        size: 10,
        bytes: 10,
        stage: FileStage::Done,
        outcome: None,
        path: None,
    };
    assert!(notice.is_valid());
    assert!(
        !FileNotice {
            bytes: 11,
            ..notice.clone()
        }
        .is_valid()
    );
    assert!(
        !FileNotice {
            name: "a\u{202e}b".into(),
            ..notice.clone()
        }
        .is_valid()
    );
    assert!(
        !FileNotice {
            name: String::new(),
            ..notice
        }
        .is_valid()
    );
}
