//! The service's timestamps: RFC 3339, also with a space instead of `T` and without an offset
//! (UTC), as the Colormap API sends them (`2024-09-16 01:30:00`). Written as RFC 3339.

use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses a service timestamp.
pub(crate) fn parse(text: &str) -> Option<OffsetDateTime> {
    let mut s = text.trim().to_owned();
    if s.len() > 10 && s.is_char_boundary(10) && s.as_bytes()[10] == b' ' {
        s.replace_range(10..11, "T");
    }
    OffsetDateTime::parse(&s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .ok()
}

pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format(&Rfc3339).unwrap_or_else(|_| t.to_string()))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| D::Error::custom(format!("invalid timestamp {text:?}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_service_forms_parse() {
        let a = super::parse("2024-09-16 01:30:00").unwrap();
        assert_eq!(a, super::parse("2024-09-16T01:30:00Z").unwrap());
        assert!(super::parse("2024-09-16T01:30:00.123456+02:00").is_some());
        assert!(super::parse("yesterday").is_none());
    }
}
