//! The compiled USP schemas must equal the official ones: same messages, fields, numbers,
//! types and enums. Runs whenever `../shared/reference/tr-369/proto` is beside the clone.

use std::path::Path;

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};

fn shape(f: &FileDescriptorProto) -> (Option<String>, String, String) {
    (
        f.package.clone(),
        format!("{:?}", f.message_type),
        format!("{:?}", f.enum_type),
    )
}

#[test]
fn compiled_schemas_equal_the_official_protos() {
    let official = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/tr-369/proto");
    if !official.exists() {
        eprintln!("skipped: {} is not present", official.display());
        return;
    }
    let theirs = protox::compile(
        ["usp-record-1-4.proto", "usp-msg-1-4.proto"],
        [official.as_path()],
    )
    .expect("the official protos compile");
    let ours = FileDescriptorSet::decode(uspcheck::usp::DESCRIPTOR_SET).unwrap();
    assert_eq!(theirs.file.len(), 2);
    for t in &theirs.file {
        let o = ours
            .file
            .iter()
            .find(|o| o.name == t.name)
            .unwrap_or_else(|| panic!("{:?} is compiled into uspcheck", t.name));
        assert_eq!(
            shape(o),
            shape(t),
            "{:?} differs from the official schema",
            t.name
        );
    }
}
