//! `ObjectReference` prints and parses back to an equal reference, whatever the hub, ids, path
//! and version; and parsing arbitrary text never panics.

use evo_core::Environment;
use evo_objects::{ObjectLocator, ObjectPath, ObjectReference};
use proptest::prelude::*;
use uuid::Uuid;

fn segment() -> impl Strategy<Value = String> {
    // Printable names, with spaces and Unicode; no '/', '?', '#', '\\' or controls.
    "[a-zA-Z0-9 ._~%&=+!$'()*,;:@é漢-]{1,12}".prop_filter("not only spaces or dots", |s| {
        !s.trim().is_empty() && s != "." && s != ".."
    })
}

fn locator() -> impl Strategy<Value = ObjectLocator> {
    prop_oneof![
        any::<u128>().prop_map(|n| ObjectLocator::Id(Uuid::from_u128(n))),
        prop::collection::vec(segment(), 1..4)
            .prop_map(|s| ObjectLocator::Path(ObjectPath::new(s.join("/")).unwrap())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prints_and_parses_back(
        https in any::<bool>(),
        host in "[a-z]{1,10}(\\.[a-z]{2,5})?",
        port in prop::option::of(1024u16..65535),
        prefix in prop::option::of("[a-z]{1,6}"),
        org in any::<u128>(),
        ws in any::<u128>(),
        locator in locator(),
        version in prop::option::of("[0-9A-Za-z:. +-]{1,24}"),
    ) {
        let scheme = if https { "https" } else { "http" };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let prefix = prefix.map(|p| format!("{p}/")).unwrap_or_default();
        let hub: url::Url = format!("{scheme}://{host}{port}/{prefix}").parse().unwrap();
        let env = Environment::new(hub, Uuid::from_u128(org), Uuid::from_u128(ws));
        let reference = ObjectReference::new(&env, locator, version.as_deref());
        let text = reference.to_string();
        let parsed = ObjectReference::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &reference);
        prop_assert_eq!(parsed.to_string(), text);
        prop_assert_eq!(parsed.environment(), env);
        let json = serde_json::to_string(&reference).unwrap();
        prop_assert_eq!(serde_json::from_str::<ObjectReference>(&json).unwrap(), reference);
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = ObjectReference::parse(&text);
        let _ = ObjectReference::parse(&format!(
            "https://h/geoscience-object/orgs/{}/workspaces/{}/objects/{text}",
            Uuid::nil(), Uuid::nil()
        ));
    }
}
