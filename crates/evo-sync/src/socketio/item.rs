//! What a Unicat-style Sync API says: item keys, sync items, full snapshots and the `initsync`
//! acknowledgement.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde_json::Value;

use crate::change::Cursors;
use crate::error::Error;

/// The key of an item in a Sync API replica.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncKey {
    /// The item's data type, e.g. `records` or `cc.users`.
    pub data_type: String,
    /// The item's key within its type (a gid, or `project/user` for members).
    pub data_key: String,
}

impl SyncKey {
    /// A key from its parts.
    pub fn new(data_type: impl Into<String>, data_key: impl Into<String>) -> Self {
        Self {
            data_type: data_type.into(),
            data_key: data_key.into(),
        }
    }
}

/// One item of a full snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotItem {
    /// The stream the item belongs to ([`CC_STREAM`](super::CC_STREAM) or [`PROJECT_STREAM`](super::PROJECT_STREAM)).
    pub stream: String,
    /// Its key.
    pub key: SyncKey,
    /// Its data.
    pub data: Value,
}

/// A full state of the server and the cursors it is current at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncSnapshot {
    /// Every item of the interest set.
    pub items: Vec<SnapshotItem>,
    /// The cursors of each stream the snapshot reflects.
    pub cursors: Cursors,
}

/// Loads a full snapshot (for Unicat: the REST `init` call), used at first start, when the
/// server expired the local cursors, and after a restore.
#[async_trait]
pub trait SnapshotLoader: Send + Sync {
    /// Loads the server's current state.
    async fn load(&self) -> Result<SyncSnapshot, Error>;
}

/// The data types of the Unicat Sync API that are kept in the replica.
pub fn default_data_types() -> BTreeSet<String> {
    [
        "cc.users",
        "cc.projects",
        "cc.projects_members",
        "cc.languages",
        "records",
        "definitions",
        "classes",
        "fields",
        "layouts",
        "assets",
        "queries",
        "modules",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// What the `initsync` acknowledgement said.
pub(crate) enum AckOutcome {
    Items(Value),
    Expired,
}

/// Reads the `initsync` acknowledgement's first argument: the catch-up list (or an object
/// with a `sync` list), or the extension `{"error": "cursor_expired"}`.
pub(crate) fn interpret_ack(first: Option<Value>) -> AckOutcome {
    match first {
        None => AckOutcome::Items(Value::Array(Vec::new())),
        Some(Value::Object(map)) => {
            if map.get("error").and_then(Value::as_str) == Some("cursor_expired") {
                return AckOutcome::Expired;
            }
            AckOutcome::Items(map.get("sync").cloned().unwrap_or(Value::Array(Vec::new())))
        }
        Some(other) => AckOutcome::Items(other),
    }
}

/// A parsed sync item.
pub(crate) struct SyncItem {
    pub(crate) stream: String,
    pub(crate) cursor: u64,
    pub(crate) action: String,
    pub(crate) data_type: String,
    pub(crate) data_key: String,
    pub(crate) data: Option<Value>,
}

impl SyncItem {
    pub(crate) fn parse(raw: &Value) -> Result<Self, String> {
        let text = |field: &str| -> Result<String, String> {
            match raw.get(field) {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(format!("field {field:?} is not a string")),
                None => Err(format!("field {field:?} is missing")),
            }
        };
        let cursor = match raw.get("cursor") {
            Some(Value::Number(n)) => n.as_u64().ok_or("cursor is not a non-negative integer")?,
            Some(Value::String(s)) => s.parse().map_err(|_| "cursor is not an integer")?,
            _ => return Err("cursor is missing".to_owned()),
        };
        Ok(Self {
            stream: text("type")?,
            cursor,
            action: text("action")?.to_ascii_uppercase(),
            data_type: text("data_type")?,
            data_key: text("data_key")?,
            data: raw.get("data").cloned().filter(|d| !d.is_null()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::packet::{Packet, PacketType};
    use super::super::session::event_parts;
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_items_and_rejects_malformed_ones() {
        let item = SyncItem::parse(&json!({"type": "project", "cursor": 7, "action": "update", "data_type": "records", "data_key": 12, "data": {"a": 1}})).expect("item");
        assert_eq!(
            (item.cursor, item.action.as_str(), item.data_key.as_str()),
            (7, "UPDATE", "12")
        );
        assert!(SyncItem::parse(&json!({"type": "project", "action": "INSERT", "data_type": "records", "data_key": "k"})).is_err());
        assert!(SyncItem::parse(&json!({"type": "project", "cursor": -1, "action": "INSERT", "data_type": "records", "data_key": "k"})).is_err());
        assert!(SyncItem::parse(&json!("nope")).is_err());
    }

    #[test]
    fn interprets_ack_shapes() {
        assert!(matches!(
            interpret_ack(Some(json!({"error": "cursor_expired"}))),
            AckOutcome::Expired
        ));
        assert!(
            matches!(interpret_ack(Some(json!([1, 2]))), AckOutcome::Items(Value::Array(v)) if v.len() == 2)
        );
        assert!(
            matches!(interpret_ack(Some(json!({"sync": [1]}))), AckOutcome::Items(Value::Array(v)) if v.len() == 1)
        );
        assert!(matches!(interpret_ack(None), AckOutcome::Items(Value::Array(v)) if v.is_empty()));
    }

    /// Fuzz-style properties of the decoding of sync items and acknowledgements.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const SECRET: &str = "SECRETTOKEN42";

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                ".{0,12}".prop_map(Value::from),
                Just(Value::from(SECRET)),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(
                        prop_oneof![
                            Just("type".to_owned()),
                            Just("cursor".to_owned()),
                            Just("action".to_owned()),
                            Just("data_type".to_owned()),
                            Just("data_key".to_owned()),
                            Just("data".to_owned()),
                            Just("error".to_owned()),
                            Just("sync".to_owned()),
                            ".{0,6}",
                        ],
                        inner,
                        0..6
                    )
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// How one member of a valid sync item is mutated.
        #[derive(Clone, Debug)]
        enum Mutation {
            Keep,
            Remove,
            Replace(Value),
        }

        fn mutation() -> impl Strategy<Value = Mutation> {
            prop_oneof![
                3 => Just(Mutation::Keep),
                1 => Just(Mutation::Remove),
                2 => json_value().prop_map(Mutation::Replace),
            ]
        }

        proptest! {
            #[test]
            fn arbitrary_json_never_panics_item_ack_or_event_decoding(value in json_value()) {
                if let Err(why) = SyncItem::parse(&value) {
                    prop_assert!(!why.contains(SECRET), "{}", why);
                }
                let _ = interpret_ack(Some(value.clone()));
                let packet = Packet {
                    kind: PacketType::Event,
                    namespace: "/".to_owned(),
                    ack_id: None,
                    data: Some(value),
                };
                let (name, arg) = event_parts(&packet);
                if let Some(Value::Array(args)) = &packet.data {
                    prop_assert_eq!(name.as_deref(), args.first().and_then(Value::as_str));
                    prop_assert_eq!(arg.as_ref(), args.get(1));
                } else {
                    prop_assert_eq!((name, arg), (None, None));
                }
            }

            #[test]
            fn mutated_sync_items_parse_to_the_right_value_or_a_message_without_data(
                cursor in any::<u64>(),
                data_key in ".{0,2000}",
                mutations in prop::collection::vec(mutation(), 6),
            ) {
                let names = ["type", "cursor", "action", "data_type", "data_key", "data"];
                let mut item = json!({
                    "type": "project",
                    "cursor": cursor,
                    "action": "update",
                    "data_type": "records",
                    "data_key": data_key,
                    "data": {"secret": SECRET},
                });
                let object = item.as_object_mut().expect("object");
                for (name, m) in names.iter().zip(&mutations) {
                    match m {
                        Mutation::Keep => {}
                        Mutation::Remove => {
                            object.remove(*name);
                        }
                        Mutation::Replace(v) => {
                            object.insert((*name).to_owned(), v.clone());
                        }
                    }
                }
                let text = |name: &str| match object.get(name) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let expected_cursor = match object.get("cursor") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.parse::<u64>().ok(),
                    _ => None,
                };
                let expected = (|| {
                    Some((
                        text("type")?,
                        expected_cursor?,
                        text("action")?.to_ascii_uppercase(),
                        text("data_type")?,
                        text("data_key")?,
                        object.get("data").cloned().filter(|d| !d.is_null()),
                    ))
                })();
                match (SyncItem::parse(&item), expected) {
                    (Ok(parsed), Some(expected)) => prop_assert_eq!(
                        (
                            parsed.stream,
                            parsed.cursor,
                            parsed.action,
                            parsed.data_type,
                            parsed.data_key,
                            parsed.data,
                        ),
                        expected
                    ),
                    (Err(why), None) => prop_assert!(!why.contains(SECRET), "{}", why),
                    (got, expected) => prop_assert!(
                        false,
                        "parse gave {:?}, expected {:?}",
                        got.map(|i| i.cursor),
                        expected
                    ),
                }
            }

            #[test]
            fn string_cursors_parse_exactly_or_are_rejected(cursor in "[0-9+-]{0,30}") {
                let item = json!({"type": "cc", "cursor": cursor, "action": "DELETE",
                    "data_type": "cc.users", "data_key": "k"});
                match (SyncItem::parse(&item), cursor.parse::<u64>()) {
                    (Ok(parsed), Ok(c)) => prop_assert_eq!(parsed.cursor, c),
                    (Err(_), Err(_)) => {}
                    (got, want) => prop_assert!(false, "{:?} vs {:?}", got.map(|i| i.cursor), want),
                }
            }

            #[test]
            fn acks_with_cursor_expired_and_sync_lists_are_told_apart(
                items in prop::collection::vec(json_value(), 0..4),
                expired in any::<bool>(),
                extra in json_value(),
            ) {
                let first = if expired {
                    json!({"error": "cursor_expired", "sync": items.clone(), "x": extra})
                } else {
                    json!({"sync": items.clone(), "x": extra})
                };
                match interpret_ack(Some(first)) {
                    AckOutcome::Expired => prop_assert!(expired),
                    AckOutcome::Items(got) => {
                        prop_assert!(!expired);
                        prop_assert_eq!(got, Value::Array(items));
                    }
                }
            }
        }
    }
}
