//! The mappings' CSV format, `zammad,kimai` with a header row: reading an import (every bad
//! row reported; row 1 is the header) and writing an export.

use super::{Entries, Mapping, MappingKind, check_kimai, parse_key};
use crate::console::error::{ConsoleError, ConsoleResult, FieldError};
use std::collections::BTreeMap;

/// Largest CSV accepted by the import: a large helpdesk's agents or organisations in one file
/// (the items are written 25 to a call, well inside the api function's 29 s).
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// Parses `zammad,kimai` rows; every bad row is reported.
pub fn parse_csv(kind: MappingKind, body: &[u8]) -> ConsoleResult<Entries> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ConsoleError::invalid("body", "the CSV must be UTF-8 text"))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    check_header(&mut reader)?;
    let mut entries = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = format!("row {}", i + 2);
        if i >= MAX_IMPORT_ROWS {
            errors.push(FieldError::new(
                row,
                format!("more than {MAX_IMPORT_ROWS} rows"),
            ));
            break;
        }
        let added = record
            .map_err(|e| e.to_string())
            .and_then(|r| add_row(kind, &r, &mut entries));
        if let Err(message) = added {
            errors.push(FieldError::new(row, message));
        }
    }
    let detail = format!(
        "{} row(s) of the CSV are invalid; nothing was imported",
        errors.len()
    );
    ConsoleError::check(&detail, errors)?;
    Ok(entries)
}

fn check_header(reader: &mut csv::Reader<&[u8]>) -> ConsoleResult<()> {
    let headers = reader
        .headers()
        .map_err(|e| ConsoleError::invalid("row 1", e.to_string()))?;
    let columns: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    if columns != ["zammad", "kimai"] {
        return Err(ConsoleError::invalid(
            "row 1",
            format!(
                "the header must be `zammad,kimai`, found `{}`",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    Ok(())
}

/// Adds one data row, or says what is wrong with it.
fn add_row(
    kind: MappingKind,
    record: &csv::StringRecord,
    entries: &mut Entries,
) -> Result<(), String> {
    if record.len() != 2 {
        return Err(format!("expected 2 columns, found {}", record.len()));
    }
    let key = parse_key(kind, &record[0]);
    let kimai = record[1]
        .parse::<u64>()
        .map_err(|_| format!("{:?} is not a Kimai id", &record[1]))
        .and_then(check_kimai);
    match (key, kimai) {
        (Ok(key), Ok(kimai)) => match entries.insert(key, kimai) {
            Some(_) => Err(format!("Zammad id {} appears twice", &record[0])),
            None => Ok(()),
        },
        (key, kimai) => Err([key.err(), kimai.err()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

/// The mappings as CSV with the import's header.
pub fn to_csv(mappings: &[Mapping]) -> ConsoleResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["zammad", "kimai"])
        .and_then(|_| {
            mappings
                .iter()
                .try_for_each(|m| writer.write_record([m.zammad.clone(), m.kimai.to_string()]))
        })
        .map_err(|e| ConsoleError::Internal(e.to_string()))?;
    writer
        .into_inner()
        .map_err(|e| ConsoleError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::mappings::ZammadKey;

    #[test]
    fn csv_rows_are_checked_one_by_one() {
        let ok = parse_csv(MappingKind::Activity, b"zammad,kimai\n3,7\nnone,9\n").unwrap();
        assert_eq!(ok.get(&ZammadKey::Id(3)), Some(&7));
        assert_eq!(ok.get(&ZammadKey::NoType), Some(&9));

        let err =
            parse_csv(MappingKind::User, b"zammad,kimai\n3,7\nx,9\n4,0\n3,8\n5\n").unwrap_err();
        let ConsoleError::Invalid { errors, .. } = err else {
            panic!("{err:?}")
        };
        let rows: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(rows, ["row 3", "row 4", "row 5", "row 6"]);

        assert!(parse_csv(MappingKind::User, b"agent,user\n1,2\n").is_err());
        assert!(
            parse_csv(MappingKind::User, b"zammad,kimai\nnone,2\n").is_err(),
            "none is for activities only"
        );
    }
}
