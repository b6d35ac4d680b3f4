//! Wire pieces the service APIs share: the user named as creator, modifier or deleter
//! ([`ServiceUser`]), the unknown members every hand-written model keeps ([`Extra`]),
//! timestamps as the services write them ([`timestamp`]), and the order of version ids
//! ([`version_order`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Unknown JSON members of a model, kept as they came, so a newer server's fields survive a
/// read/serialize round trip.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A user as the Evo APIs name them in `created_by`, `modified_by`, `deleted_by` and the
/// like (the File API's `UserInfo`, the Geoscience Object API's `User`, the Block Model API's
/// `UserInfo`): an id, and the name and e-mail address when the service knows them.
///
/// ```
/// let user: evo_core::ServiceUser = serde_json::from_str(
///     r#"{"id": "00000000-0000-0000-0000-000000000007", "name": "Ada", "team": "survey"}"#,
/// )?;
/// assert_eq!((user.name.as_deref(), user.email), (Some("Ada"), None));
/// assert_eq!(user.extra["team"], "survey");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServiceUser {
    /// The user's id.
    pub id: Uuid,
    /// The display name, when the service knows it.
    #[serde(default)]
    pub name: Option<String>,
    /// The e-mail address, when the service knows it.
    #[serde(default)]
    pub email: Option<String>,
    /// Members this version of the SDK does not know.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ServiceUser {
    /// A user known by id alone.
    pub fn new(id: Uuid) -> Self {
        ServiceUser {
            id,
            name: None,
            email: None,
            extra: Extra::new(),
        }
    }
}

/// Orders version ids numerically when both are integers, otherwise as text (`"9"` before
/// `"10"`).
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// Timestamps in RFC 3339, also accepting a space instead of `T` (as the File and Geoscience
/// Object APIs send them: `2020-01-01 01:30:00+00:00`) and a missing offset (UTC). Written as
/// RFC 3339. For `#[serde(with = "evo_core::models::timestamp")]`; [`option`](timestamp::option)
/// for an `Option`.
pub mod timestamp {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    /// Parses a service timestamp.
    pub fn parse(text: &str) -> Option<OffsetDateTime> {
        let mut s = text.trim().to_owned();
        if s.len() > 10 && s.is_char_boundary(10) && s.as_bytes()[10] == b' ' {
            s.replace_range(10..11, "T");
        }
        if let Ok(t) = OffsetDateTime::parse(&s, &Rfc3339) {
            return Some(t);
        }
        // No offset: the services document UTC.
        OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339).ok()
    }

    /// Formats a timestamp as RFC 3339.
    pub fn format(t: &OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
    }

    /// Writes a timestamp as RFC 3339.
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    /// Reads a service timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| D::Error::custom(format!("invalid timestamp {text:?}")))
    }

    /// The same for an optional timestamp (`null` or absent: `None`).
    pub mod option {
        use super::*;

        /// Writes an optional timestamp (`null` for `None`).
        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        /// Reads an optional service timestamp.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(text) => super::parse(&text)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("invalid timestamp {text:?}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_form_the_services_write() {
        let a = timestamp::parse("2020-01-01 01:30:00+00:00").unwrap();
        assert_eq!(timestamp::parse("2020-01-01T01:30:00Z"), Some(a));
        assert_eq!(timestamp::parse("2020-01-01T01:30:00"), Some(a));
        assert_eq!(timestamp::parse("2020-01-01T03:30:00.000+02:00"), Some(a));
        assert!(timestamp::parse("2020-01-01é01:30").is_none());
        assert!(timestamp::parse("").is_none());
        assert_eq!(timestamp::format(&a), "2020-01-01T01:30:00Z");
    }

    #[test]
    fn users_keep_unknown_members_and_version_ids_compare_as_numbers() {
        let json =
            serde_json::json!({"id": Uuid::nil(), "name": null, "email": "a@b.c", "role": "owner"});
        let user: ServiceUser = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&user).unwrap(), json);
        assert_eq!(ServiceUser::new(Uuid::nil()).extra.len(), 0);
        assert_eq!(version_order("9", "10"), std::cmp::Ordering::Less);
        assert_eq!(version_order("b", "a"), std::cmp::Ordering::Greater);
    }
}
