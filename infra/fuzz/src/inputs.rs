//! What the targets are fed: seeds of the right shape, mutated the way broken or hostile
//! senders break them. A third of the cases each:
//! - a seed's JSON with values replaced (by nulls, huge or negative numbers, strings of any
//!   Unicode, empty containers), members removed, arrays grown;
//! - a seed's bytes with bytes replaced, inserted or removed, or cut short;
//! - bytes of any kind.
//!
//! Structure-aware mutation reaches the code behind the JSON parser (field conversions,
//! validation, our own maps and sums); byte mutation and noise reach the parser's error paths.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A JSON value as a replacement: the kinds that break assumptions about a field.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop::num::f64::NORMAL.prop_map(|f| json!(f)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1e300)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("")),
        Just(json!("2026-13-45T25:61:00+99:00")),
        Just(Value::String("x".repeat(10_000))),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// One change to a JSON document, at the node `at` names (an index into its nodes, wrapped).
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Value),
    Remove(usize),
    /// Appends a copy of the node to the array or object holding it.
    Repeat(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), leaf()).prop_map(|(at, v)| Edit::Replace(at, v)),
        2 => any::<usize>().prop_map(Edit::Remove),
        1 => any::<usize>().prop_map(Edit::Repeat),
    ]
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Applies `edit` to the `n`-th node (pre-order) of `v`; `n == 0` is `v` itself.
fn apply(v: &mut Value, n: &mut usize, edit: &Edit) -> bool {
    let children: Vec<&mut Value> = match v {
        Value::Array(a) => a.iter_mut().collect(),
        Value::Object(o) => o.values_mut().collect(),
        _ => return false,
    };
    let mut hit = None;
    for (i, child) in children.into_iter().enumerate() {
        *n -= 1;
        if *n == 0 {
            match edit {
                Edit::Replace(_, new) => *child = new.clone(),
                _ => hit = Some(i),
            }
            if hit.is_none() {
                return true;
            }
            break;
        }
        if apply(child, n, edit) {
            return true;
        }
    }
    let Some(i) = hit else { return false };
    match (v, edit) {
        (Value::Array(a), Edit::Remove(_)) => {
            a.remove(i);
        }
        (Value::Array(a), Edit::Repeat(_)) => {
            let copy = a[i].clone();
            a.push(copy);
        }
        (Value::Object(o), Edit::Remove(_)) => {
            let key = o.keys().nth(i).cloned().expect("the i-th key exists");
            o.remove(&key);
        }
        (Value::Object(o), Edit::Repeat(_)) => {
            let key = o.keys().nth(i).cloned().expect("the i-th key exists");
            let copy = o[&key].clone();
            o.insert(format!("{key}_"), copy);
        }
        _ => {}
    }
    true
}

fn edited(mut doc: Value, edits: &[Edit]) -> Value {
    for e in edits {
        let at = match e {
            Edit::Replace(at, _) | Edit::Remove(at) | Edit::Repeat(at) => *at,
        };
        let nodes = count(&doc);
        let mut n = at % nodes;
        if n == 0 {
            if let Edit::Replace(_, new) = e {
                doc = new.clone();
            }
            continue;
        }
        apply(&mut doc, &mut n, e);
    }
    doc
}

/// A change to bytes: at a position (wrapped), replace, insert or remove one byte.
fn byte_edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..8)
}

fn bytes_edited(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(at, byte, op) in edits {
        let len = bytes.len();
        match op {
            0 if len > 0 => bytes[at % len] = byte,
            1 => bytes.insert(at % (len + 1), byte),
            _ if len > 0 => {
                bytes.remove(at % len);
            }
            _ => {}
        }
    }
    if let Some(cut) = cut {
        let keep = cut % (bytes.len() + 1);
        bytes.truncate(keep);
    }
    bytes
}

/// Bodies derived from `seeds` (JSON documents of the shape the target expects).
pub fn json_bodies(seeds: Vec<Value>) -> impl Strategy<Value = Vec<u8>> {
    let structural = (
        prop::sample::select(seeds.clone()),
        prop::collection::vec(edit(), 0..6),
    )
        .prop_map(|(seed, edits)| serde_json::to_vec(&edited(seed, &edits)).unwrap());
    let bytewise = (
        prop::sample::select(seeds),
        byte_edits(),
        prop::option::of(any::<usize>()),
    )
        .prop_map(|(seed, edits, cut)| {
            bytes_edited(serde_json::to_vec(&seed).unwrap(), &edits, cut)
        });
    prop_oneof![structural, bytewise, noise()]
}

/// Text derived from `seeds` the same way, for formats that are not JSON (CSV).
pub fn text_bodies(seeds: Vec<&'static str>) -> impl Strategy<Value = Vec<u8>> {
    let bytewise = (
        prop::sample::select(seeds.clone()),
        byte_edits(),
        prop::option::of(any::<usize>()),
    )
        .prop_map(|(seed, edits, cut)| bytes_edited(seed.as_bytes().to_vec(), &edits, cut));
    let lines = (
        prop::sample::select(seeds),
        prop::collection::vec("[ -~]{0,30}", 0..6),
    )
        .prop_map(|(seed, extra)| {
            let mut text = seed.to_owned();
            for line in extra {
                text.push('\n');
                text.push_str(&line);
            }
            text.into_bytes()
        });
    prop_oneof![bytewise, lines, noise()]
}

/// Bytes of any kind, mostly short.
pub fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// An object with the members of `a`, then those of `b`.
pub fn merged(a: Value, b: Value) -> Value {
    let mut out = Map::new();
    for v in [a, b] {
        if let Value::Object(o) = v {
            out.extend(o);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_reach_every_node() {
        let doc = json!({"a": [1, 2], "b": {"c": 3}});
        assert_eq!(count(&doc), 6);
        let replaced = edited(doc.clone(), &[Edit::Replace(5, json!("x"))]);
        assert_eq!(replaced, json!({"a": [1, 2], "b": {"c": "x"}}));
        let removed = edited(doc.clone(), &[Edit::Remove(2)]);
        assert_eq!(removed, json!({"a": [2], "b": {"c": 3}}));
        let repeated = edited(doc.clone(), &[Edit::Repeat(4)]);
        assert_eq!(
            repeated,
            json!({"a": [1, 2], "b": {"c": 3}, "b_": {"c": 3}})
        );
        assert_eq!(edited(doc, &[Edit::Replace(0, json!(null))]), json!(null));
    }

    #[test]
    fn byte_edits_stay_in_bounds() {
        assert_eq!(
            bytes_edited(vec![], &[(7, b'x', 0), (3, b'y', 2)], None),
            b""
        );
        assert_eq!(
            bytes_edited(b"ab".to_vec(), &[(5, b'x', 1)], Some(2)),
            b"ab"
        );
        assert_eq!(bytes_edited(b"abc".to_vec(), &[(4, b'z', 0)], None), b"azc");
    }
}
