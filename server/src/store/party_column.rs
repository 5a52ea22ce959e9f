//! How a [`Party`] is written in the session tables' actor columns. One
//! place for both directions, shared by the session records and the
//! reports (neither imports the other for it).

use tandem_protocol::session::Party;

pub(super) fn party_name(party: Party) -> &'static str {
    match party {
        Party::Helper => "helper",
        Party::Sharer => "sharer",
        Party::Agent => "agent",
        Party::System => "system",
    }
}

/// `None` for a name no version of the server wrote.
pub(super) fn party_from(text: &str) -> Option<Party> {
    [Party::Helper, Party::Sharer, Party::Agent, Party::System]
        .into_iter()
        .find(|party| party_name(*party) == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_party_round_trips_and_unknown_names_are_none() {
        for party in [Party::Helper, Party::Sharer, Party::Agent, Party::System] {
            assert_eq!(party_from(party_name(party)), Some(party));
        }
        assert_eq!(party_from("Helper"), None);
        assert_eq!(party_from(""), None);
    }
}
