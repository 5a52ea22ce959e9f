//! The sessions report as CSV (RFC 4180), for spreadsheets and SIEMs.

use tandem_protocol::reports::SessionReport;
use tandem_protocol::session::Party;

/// The header row; one column per field of [`SessionReport`].
pub const HEADER: [&str; 34] = [
    "session_id",
    "tenant",
    "helper_id",
    "helper_name",
    "sharer_id",
    "sharer_name",
    "device_id",
    "device_name",
    "started_at",
    "ended_at",
    "local_day",
    "duration_s",
    "view_s",
    "control_s",
    "paused_s",
    "elevation_used",
    "elevation_held",
    "pause_used",
    "chat_used",
    "annotation_used",
    "clipboard_to_device",
    "clipboard_from_device",
    "files_to_device",
    "files_from_device",
    "file_bytes_to_device",
    "file_bytes_from_device",
    "outcome",
    "outcome_detail",
    "ended_by",
    "ended_by_name",
    "reconnects",
    "ticket",
    "outside_hours",
    "modes",
];

/// A spreadsheet would run a cell that starts like a formula; such text
/// gets a leading apostrophe (OWASP "CSV injection").
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn party(p: Option<Party>) -> &'static str {
    match p {
        Some(Party::Helper) => "helper",
        Some(Party::Sharer) => "sharer",
        Some(Party::Agent) => "agent",
        Some(Party::System) => "system",
        None => "",
    }
}

fn modes(r: &SessionReport) -> String {
    let mut used = Vec::new();
    if r.view_ms > 0 {
        used.push("view");
    }
    if r.control_ms > 0 {
        used.push("control");
    }
    used.join(" ")
}

/// The rows as one CSV document, header first.
pub fn render(rows: &[SessionReport]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)?;
    for r in rows {
        let opt = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_default();
        let flag = |b: bool| if b { "true" } else { "false" }.to_owned();
        out.write_record([
            r.id.0.clone(),
            cell(&r.tenant_name),
            r.helper_id.0.clone(),
            cell(&r.helper_name),
            r.sharer_id
                .as_ref()
                .map(|u| u.0.clone())
                .unwrap_or_default(),
            opt(&r.sharer_name),
            r.device_id
                .as_ref()
                .map(|d| d.0.clone())
                .unwrap_or_default(),
            opt(&r.device_name),
            iso(r.started_at.0),
            r.ended_at.map(|t| iso(t.0)).unwrap_or_default(),
            r.local_day.clone(),
            seconds(r.duration_ms),
            seconds(r.view_ms),
            seconds(r.control_ms),
            seconds(r.paused_ms),
            flag(r.elevation_used),
            flag(r.elevation_held),
            flag(r.pause_used),
            flag(r.chat_used),
            flag(r.annotation_used),
            r.clipboard_to_device.to_string(),
            r.clipboard_from_device.to_string(),
            r.files_to_device.to_string(),
            r.files_from_device.to_string(),
            r.file_bytes_to_device.to_string(),
            r.file_bytes_from_device.to_string(),
            r.outcome.as_str().to_owned(),
            opt(&r.outcome_detail),
            party(r.ended_by).to_owned(),
            opt(&r.ended_by_name),
            r.reconnects.to_string(),
            opt(&r.ticket),
            flag(r.outside_hours),
            modes(r),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::reports::Outcome;
    use tandem_protocol::{SessionId, UnixMillis, UserId};

    #[test]
    fn rows_are_quoted_and_formulas_defused() {
        let row = SessionReport {
            id: SessionId::from("s1"),
            helper_id: UserId::from("u1"),
            helper_name: "=HYPERLINK(\"x\")".into(),
            sharer_id: None,
            sharer_name: Some("Lynne, R.".into()),
            device_id: None,
            device_name: None,
            tenant_name: "Contoso".into(),
            started_at: UnixMillis(1_795_390_200_000),
            ended_at: Some(UnixMillis(1_795_390_261_500)),
            duration_ms: 61_500,
            view_ms: 1_000,
            control_ms: 60_500,
            paused_ms: 0,
            elevation_used: true,
            elevation_held: true,
            pause_used: false,
            chat_used: true,
            annotation_used: false,
            clipboard_to_device: 2,
            clipboard_from_device: 0,
            files_to_device: 1,
            files_from_device: 0,
            file_bytes_to_device: 20_000_000,
            file_bytes_from_device: 0,
            outcome: Outcome::Completed,
            outcome_detail: None,
            ended_by: Some(Party::Sharer),
            ended_by_name: Some("Lynne".into()),
            reconnects: 1,
            ticket: Some("INC-1".into()),
            outside_hours: true,
            local_day: "2026-11-22".into(),
        };
        let text = render(&[row]).unwrap_or_default();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().map(|l| l.split(',').count()),
            Some(HEADER.len())
        );
        let line = lines.next().unwrap_or_default();
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(line.contains("\"Lynne, R.\""), "{line}");
        assert!(line.contains("2026-11-22T23:30:00Z"), "{line}");
        assert!(
            line.contains(",61.500,1.000,60.500,0.000,true,true,false,true,false,2,0,1,0,20000000,0,completed,"),
            "{line}"
        );
        assert!(line.ends_with(",INC-1,true,view control"), "{line}");
    }
}
