//! The compiled USP schemas must equal the official ones (TR-369 1.4.1's
//! `usp-record-1-4.proto` and `usp-msg-1-4.proto`): same messages, fields, numbers, types and
//! enums. It runs when those files are found: in the folder `USPCHECK_OFFICIAL_PROTOS` names,
//! or else in the maintainers' copy of the specifications beside the clone. Without them it
//! prints "skipped: …" with the reason and is reported ignored, never passed.

use std::path::{Path, PathBuf};

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
    let official = std::env::var_os("USPCHECK_OFFICIAL_PROTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/tr-369/proto")
        });
    let present = official.join("usp-msg-1-4.proto").exists();
    if !present {
        println!(
            "skipped: compiled_schemas_equal_the_official_protos: the official USP .proto files \
             are not in {} (set USPCHECK_OFFICIAL_PROTOS to a folder holding usp-record-1-4.proto \
             and usp-msg-1-4.proto to run it)",
            official.display()
        );
    }
    let trial = Trial::test(
        "compiled_schemas_equal_the_official_protos (needs the official .proto files)",
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
