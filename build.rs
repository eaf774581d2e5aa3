//! Compiles the USP 1.4 schemas in `proto/` with protox (pure Rust, so no `protoc` is
//! needed on the machine) and generates prost types from the resulting descriptor set.
//! The encoded descriptor set is also kept, so the harness can translate YAML written in
//! the `.proto` field names into messages by reflection.

use std::{env, path::PathBuf};

use prost::Message;

fn main() {
    let protos = ["proto/usp-record-1-4.proto", "proto/usp-msg-1-4.proto"];
    for p in &protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"]).expect("USP .proto files compile");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("usp_descriptor.bin"), fds.encode_to_vec()).unwrap();
    prost_build::Config::new()
        // Ordered maps, so the same message always encodes to the same bytes.
        .btree_map(["."])
        .compile_fds(fds)
        .expect("prost-build generates the USP types");
    embed_cases(&out);
}

/// Embeds every case file under `testcases/`, so the binary runs the suite from any folder.
fn embed_cases(out: &std::path::Path) {
    println!("cargo:rerun-if-changed=testcases");
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut files = Vec::new();
    collect(&root.join("testcases"), &mut files);
    files.sort();
    let mut code = String::from(
        "/// Case files compiled into the binary: (path, text).\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("embedded_cases.rs"), code).unwrap();
}

fn collect(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            println!("cargo:rerun-if-changed={}", p.display());
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}
