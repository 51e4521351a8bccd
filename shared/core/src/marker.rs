//! Markers in Kimai descriptions that tie a timesheet to its Zammad origin.
//!
//! Ours: `[zammad:ta=<accounting id>]` (per accounting) and `[zammad:agg=<64 hex>]` (aggregate),
//! anywhere in the description. The older Python tool wrote `ZAM:T<ticket>|TA:<accounting id>` as
//! the first line; we read it so migrated timesheets are adopted, and never write it.

use crate::desired::EntryKey;
use crate::ids::AccountingId;

/// A marker found in (or to be written into) a description.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Marker {
    /// `[zammad:ta=123]`
    Accounting(AccountingId),
    /// `[zammad:agg=<hex>]`, the hash part of an `agg:` key.
    Aggregate(String),
    /// `ZAM:T<ticket>|TA:<id>` on the first line (legacy, read only).
    Legacy {
        ticket: u64,
        accounting: AccountingId,
    },
}

impl Marker {
    /// The marker that identifies `key`, or `None` for a key that is neither `ta:` nor `agg:`.
    pub fn for_key(key: &EntryKey) -> Option<Marker> {
        if let Some(id) = key.as_str().strip_prefix("ta:") {
            return id
                .parse()
                .ok()
                .map(|id| Marker::Accounting(AccountingId(id)));
        }
        let hash = key.as_str().strip_prefix("agg:")?;
        is_hash(hash).then(|| Marker::Aggregate(hash.to_owned()))
    }

    /// The entry key this marker stands for. A legacy marker names one accounting: `ta:<id>`.
    pub fn key(&self) -> EntryKey {
        match self {
            Marker::Accounting(id) | Marker::Legacy { accounting: id, .. } => {
                EntryKey::for_accounting(*id)
            }
            Marker::Aggregate(hash) => EntryKey(format!("agg:{hash}")),
        }
    }

    /// Our text form. A legacy marker is rendered as ours: we never write the old format.
    pub fn render(&self) -> String {
        match self {
            Marker::Accounting(id) | Marker::Legacy { accounting: id, .. } => {
                format!("[zammad:ta={id}]")
            }
            Marker::Aggregate(hash) => format!("[zammad:agg={hash}]"),
        }
    }

    /// A Kimai `term` that finds this marker. Kimai reads `name:value` parts of a term as a meta
    /// field search, so the term must not contain a colon; the closing bracket keeps `ta=12]`
    /// from matching `ta=123]`.
    pub fn search_term(&self) -> String {
        match self {
            Marker::Accounting(id) => format!("ta={id}]"),
            Marker::Aggregate(hash) => format!("agg={hash}]"),
            Marker::Legacy { ticket, .. } => format!("T{ticket}|TA"),
        }
    }

    /// Find a marker in a Kimai description. Ours wins over a legacy first line; of several of
    /// ours, the first counts.
    pub fn parse(description: &str) -> Option<Marker> {
        parse_ours(description).or_else(|| parse_legacy(description))
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn parse_ours(description: &str) -> Option<Marker> {
    const OPEN: &str = "[zammad:";
    let mut rest = description;
    while let Some(at) = rest.find(OPEN) {
        let after = &rest[at + OPEN.len()..];
        if let Some(close) = after.find(']') {
            let body = &after[..close];
            if let Some(id) = body.strip_prefix("ta=")
                && !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && let Ok(id) = id.parse()
            {
                return Some(Marker::Accounting(AccountingId(id)));
            }
            if let Some(hash) = body.strip_prefix("agg=")
                && is_hash(hash)
            {
                return Some(Marker::Aggregate(hash.to_owned()));
            }
        }
        rest = after;
    }
    None
}

/// `ZAM:T<digits>|TA:<digits>` at the start of the first non-empty line, followed by the end of
/// the line or a character that is not a digit.
fn parse_legacy(description: &str) -> Option<Marker> {
    let line = description.lines().map(str::trim).find(|l| !l.is_empty())?;
    let rest = line.strip_prefix("ZAM:T")?;
    let (ticket, rest) = split_digits(rest)?;
    let rest = rest.strip_prefix("|TA:")?;
    let (accounting, _) = split_digits(rest)?;
    Some(Marker::Legacy {
        ticket,
        accounting: AccountingId(accounting),
    })
}

fn split_digits(s: &str) -> Option<(u64, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let n = s[..end].parse().ok()?;
    Some((n, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn renders_and_parses_ours_anywhere_in_the_text() {
        let m = Marker::Accounting(AccountingId(123));
        assert_eq!(m.render(), "[zammad:ta=123]");
        assert_eq!(
            Marker::parse("#31001 Printer [zammad:ta=123] jam"),
            Some(m.clone())
        );
        assert_eq!(m.key(), EntryKey("ta:123".into()));
        assert_eq!(Marker::for_key(&m.key()), Some(m));
    }

    #[test]
    fn aggregate_marker_round_trips() {
        let m = Marker::Aggregate(HASH.into());
        let text = format!("{} #1 Title", m.render());
        assert_eq!(Marker::parse(&text), Some(m.clone()));
        assert_eq!(m.key().as_str(), format!("agg:{HASH}"));
        assert_eq!(Marker::for_key(&m.key()), Some(m));
    }

    #[test]
    fn parses_the_legacy_first_line() {
        let m = Marker::parse("ZAM:T31001|TA:77\nPrinter jam").unwrap();
        assert_eq!(
            m,
            Marker::Legacy {
                ticket: 31001,
                accounting: AccountingId(77)
            }
        );
        assert_eq!(m.key(), EntryKey("ta:77".into()));
        // We never write the legacy format.
        assert_eq!(m.render(), "[zammad:ta=77]");
        assert_eq!(
            Marker::parse("  \n ZAM:T1|TA:2 Something"),
            Some(Marker::Legacy {
                ticket: 1,
                accounting: AccountingId(2)
            })
        );
    }

    #[test]
    fn legacy_marker_only_counts_on_the_first_line() {
        assert_eq!(Marker::parse("Printer jam\nZAM:T31001|TA:77"), None);
        assert_eq!(Marker::parse("ZAM:T31001|TA:"), None);
        assert_eq!(Marker::parse("ZAM:Tx|TA:1"), None);
    }

    #[test]
    fn ours_wins_over_legacy() {
        let m = Marker::parse("ZAM:T1|TA:2\n[zammad:ta=5]").unwrap();
        assert_eq!(m, Marker::Accounting(AccountingId(5)));
    }

    #[test]
    fn malformed_markers_are_ignored() {
        for text in [
            "[zammad:ta=]",
            "[zammad:ta=12a]",
            "[zammad:ta=-3]",
            "[zammad:agg=abc]",
            "[zammad:ta=5",
            "zammad:ta=5]",
            "",
        ] {
            assert_eq!(Marker::parse(text), None, "{text:?}");
        }
        // A malformed one does not hide a later valid one.
        assert_eq!(
            Marker::parse("[zammad:ta=x] [zammad:ta=9]"),
            Some(Marker::Accounting(AccountingId(9)))
        );
        assert_eq!(Marker::for_key(&EntryKey("other:1".into())), None);
        assert_eq!(Marker::for_key(&EntryKey("agg:xyz".into())), None);
    }

    #[test]
    fn search_terms_have_no_colon() {
        assert_eq!(Marker::Accounting(AccountingId(12)).search_term(), "ta=12]");
        assert_eq!(
            Marker::Legacy {
                ticket: 31001,
                accounting: AccountingId(7)
            }
            .search_term(),
            "T31001|TA"
        );
        assert!(!Marker::Aggregate(HASH.into()).search_term().contains(':'));
    }
}
