//! The compiled USP schemas must equal the official ones: same messages, fields, numbers,
//! types and enums. Runs whenever `../shared/reference/tr-369/proto` is beside the clone;
//! elsewhere it is reported ignored, never passed.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet};

fn shape(f: &FileDescriptorProto) -> (Option<String>, String, String) {
    (
        f.package.clone(),
        format!("{:?}", f.message_type),
        format!("{:?}", f.enum_type),
    )
}

fn main() {
    let args = Arguments::from_args();
    let official = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/tr-369/proto");
    let present = official.exists();
    let trial = Trial::test(
        "compiled_schemas_equal_the_official_protos (needs ../shared)",
        move || compiled_schemas_equal_the_official_protos(&official),
    )
    .with_ignored_flag(!present);
    libtest_mimic::run(&args, vec![trial]).exit();
}

fn compiled_schemas_equal_the_official_protos(official: &Path) -> Result<(), Failed> {
    let theirs = protox::compile(["usp-record-1-4.proto", "usp-msg-1-4.proto"], [official])
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
    Ok(())
}
