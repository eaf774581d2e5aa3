use std::collections::BTreeSet;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use super::*;
use crate::suite::profile::{
    BrokerMode, Credentials, MqttSetup, MqttTls, MtpSetup, Profile, SecondaryController, Timeouts,
    UdsSetup, WebSocketSetup,
};

const ALL: [(Mtp, Mode); 8] = [
    (Mtp::WebSocket, Mode::Listen),
    (Mtp::WebSocket, Mode::Connect),
    (Mtp::Uds, Mode::Listen),
    (Mtp::Uds, Mode::Connect),
    (Mtp::Mqtt(Version::V5), Mode::Listen),
    (Mtp::Mqtt(Version::V5), Mode::Connect),
    (Mtp::Mqtt(Version::V311), Mode::Listen),
    (Mtp::Mqtt(Version::V311), Mode::Connect),
];

fn covered() -> BTreeSet<u32> {
    static COVERED: std::sync::OnceLock<BTreeSet<u32>> = std::sync::OnceLock::new();
    COVERED
        .get_or_init(|| super::covered(&crate::suite::load_embedded().unwrap()))
        .clone()
}

#[test]
fn every_starter_profile_loads_as_the_set_up_it_was_asked_for() {
    let covered = covered();
    for (mtp, mode) in ALL {
        let text = profile(mtp, mode, &covered);
        let p = Profile::parse(&text, "eut.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        let what = format!("{mtp:?} {mode:?}");
        match (p.mtp(), mtp, mode) {
            (MtpSetup::WebSocket(WebSocketSetup::Listen { .. }), Mtp::WebSocket, Mode::Listen)
            | (
                MtpSetup::WebSocket(WebSocketSetup::Connect { .. }),
                Mtp::WebSocket,
                Mode::Connect,
            )
            | (MtpSetup::Uds(UdsSetup::Listen { .. }), Mtp::Uds, Mode::Listen)
            | (MtpSetup::Uds(UdsSetup::Connect { .. }), Mtp::Uds, Mode::Connect) => {}
            (MtpSetup::Mqtt(m), Mtp::Mqtt(v), mode) => {
                assert_eq!(m.version, v, "{what}");
                let broker = match mode {
                    Mode::Listen => BrokerMode::Embedded,
                    Mode::Connect => BrokerMode::External,
                };
                assert_eq!(m.broker, broker, "{what}");
            }
            (other, ..) => panic!("{what}: the profile selects {other:?}"),
        }
        assert_eq!(p.eut.endpoint_id, PLACEHOLDER_EUT_ID);
        // Only the MTP's own feature is ticked; every ID of the plan is there to tick.
        let own: &[u32] = match mtp {
            Mtp::WebSocket => &[19],
            Mtp::Uds => &[],
            Mtp::Mqtt(Version::V5) => &[36],
            Mtp::Mqtt(Version::V311) => &[35],
        };
        assert_eq!(p.features, own, "{what}");
        for f in features::all() {
            let line = text
                .lines()
                .find(|l| {
                    l.trim_start_matches([' ', '#'])
                        .starts_with(&format!("{}:", f.id))
                })
                .unwrap_or_else(|| panic!("{what}: no line for feature {}", f.id));
            assert!(line.contains(f.name), "{line}");
            assert_eq!(line.trim_start().starts_with('#'), f.removed(), "{line}");
        }
        let alternates: Vec<(&str, &str)> = p
            .alternates
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut builtin = BUILTIN_ALTERNATES.to_vec();
        builtin.sort();
        assert_eq!(alternates, builtin, "{what}");
        assert!(p.start.is_none(), "{what}: `start` is only an example");
    }
}

#[test]
fn a_ticked_feature_is_declared_and_an_unticked_one_is_not() {
    let text = profile(Mtp::Uds, Mode::Listen, &covered());
    let line = "  10: false  # Reboot:1 profile";
    let ticked = text.replacen(line, "  10: true   # Reboot:1 profile", 1);
    assert_ne!(ticked, text, "the line of feature 10 is {line:?}");
    assert!(Profile::parse(&text, "p.yaml").unwrap().features.is_empty());
    assert_eq!(Profile::parse(&ticked, "p.yaml").unwrap().features, [10]);
    // The list form is read as before, and nothing under `features:` is none.
    let head = "eut: { endpoint_id: 'proto::a' }\ncontroller: { endpoint_id: 'proto::c' }\nuds: { mode: listen, path: /tmp/s }\n";
    for (features, ids) in [
        ("[1, 10]", vec![1, 10]),
        ("", vec![]),
        ("{ 3: true, 4: false }", vec![3]),
    ] {
        let p = Profile::parse(&format!("{head}features: {features}\n"), "p.yaml").unwrap();
        assert_eq!(p.features, ids, "{features}");
    }
    let e = Profile::parse(&format!("{head}features:\n  10: maybe\n"), "p.yaml").unwrap_err();
    assert_eq!(e.line, 5, "{e}");
}

#[test]
fn no_run_of_comment_lines_is_longer_than_a_yaml_parser_looks_ahead() {
    // The parser buffers comments while it looks for the next token, up to a bound.
    for (mtp, mode) in ALL {
        let text = profile(mtp, mode, &covered());
        let mut run = 0;
        for l in text.lines() {
            run = if l.trim_start().starts_with('#') {
                run + 1
            } else {
                0
            };
            assert!(
                run <= 20,
                "{mtp:?} {mode:?}: a run of comments ends at {l:?}"
            );
        }
    }
}

#[test]
fn every_alternate_a_case_uses_is_in_the_starter_profile_with_what_it_is() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testcases");
    let mut used = BTreeSet::new();
    for section in std::fs::read_dir(dir).unwrap().flatten() {
        for f in std::fs::read_dir(section.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            for (i, _) in text.match_indices("${alt.") {
                let rest = &text[i + 6..];
                used.insert(rest[..rest.find('}').unwrap()].to_string());
            }
        }
    }
    assert!(!used.is_empty());
    let text = profile(Mtp::WebSocket, Mode::Listen, &covered());
    for name in &used {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("${{alt.{name}}} is not in the starter profile"));
        assert!(
            line.split_once('#')
                .is_some_and(|(_, about)| about.trim().len() > 3),
            "{line}"
        );
    }
}

/// A deserializer that only records the field names a struct asks for.
struct FieldNames<'a>(&'a mut Vec<&'static str>);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend(fields);
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The fields the profile loader accepts for `T`.
fn fields<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
    let mut names = Vec::new();
    let _ = T::deserialize(FieldNames(&mut names));
    assert!(
        !names.is_empty(),
        "{} is a struct",
        std::any::type_name::<T>()
    );
    names
}

/// Every field the loader knows, as `section.field`. The MTP set-ups are tagged by `mode`,
/// which serde does not describe; their fields are listed here and each is proven accepted.
fn loader_fields() -> Vec<String> {
    let mut all: Vec<String> = fields::<Profile>().iter().map(|f| f.to_string()).collect();
    let nested: [(&str, Vec<&str>); 7] = [
        ("eut", fields::<crate::suite::profile::Identity>()),
        ("controller", fields::<crate::suite::profile::Identity>()),
        ("secondary_controller", fields::<SecondaryController>()),
        ("timeouts", fields::<Timeouts>()),
        ("mqtt", fields::<MqttSetup>()),
        ("mqtt.tls", fields::<MqttTls>()),
        ("mqtt.credentials", fields::<Credentials>()),
    ];
    for (section, names) in nested {
        all.extend(names.iter().map(|f| format!("{section}.{f}")));
    }
    for (section, tagged) in [
        ("websocket", ["mode", "listen", "url"]),
        ("uds", ["mode", "path", "path"]),
    ] {
        all.extend(tagged.iter().map(|f| format!("{section}.{f}")));
    }
    all.sort();
    all.dedup();
    all
}

#[test]
fn every_field_the_loader_knows_is_in_a_starter_profile_and_in_the_docs() {
    let covered = covered();
    let templates: Vec<String> = ALL.iter().map(|(m, r)| profile(*m, *r, &covered)).collect();
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/eut-profile.md"),
    )
    .unwrap();
    let fields = loader_fields();
    assert!(
        fields.contains(&"mqtt.agent_client_id".to_string()),
        "{fields:?}"
    );
    for field in &fields {
        let key = field.rsplit('.').next().unwrap();
        let keyed = |l: &str| {
            l.match_indices(&format!("{key}:")).any(|(i, _)| {
                !l[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            })
        };
        let written = templates.iter().any(|t| t.lines().any(keyed));
        assert!(written, "no starter profile writes `{key}:` ({field})");
        assert!(
            docs.contains(&format!("`{field}`")) || docs.lines().any(keyed),
            "docs/eut-profile.md does not describe `{field}`"
        );
    }
    // The tagged set-ups accept exactly what is listed above.
    for (text, ok) in [
        ("websocket: { mode: listen, listen: '127.0.0.1:0' }", true),
        (
            "websocket: { mode: connect, url: 'ws://127.0.0.1:1/' }",
            true,
        ),
        ("uds: { mode: listen, path: /tmp/s }", true),
        ("websocket: { mode: listen, url: 'ws://x/' }", false),
    ] {
        let p = format!(
            "eut: {{ endpoint_id: 'proto::a' }}\ncontroller: {{ endpoint_id: 'proto::c' }}\n{text}\n"
        );
        assert_eq!(Profile::parse(&p, "p.yaml").is_ok(), ok, "{text}");
    }
}

#[test]
fn init_refuses_to_replace_a_file_without_force() {
    let dir = std::env::temp_dir().join(format!("uspcheck-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("eut.yaml");
    write(&out, "first\n", false).unwrap();
    match write(&out, "second\n", false) {
        Err(InitError::Exists(why)) => assert!(why.contains("--force"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "first\n");
    write(&out, "second\n", true).unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "second\n");
    let _ = std::fs::remove_dir_all(&dir);
}
