//! The Unix Domain Socket MTP (TR-369 "UNIX Domain Socket Binding"), in both roles. Frames
//! are a `_USP` header with a 4-byte length, then TLVs: 1 Handshake (the sender's Endpoint
//! ID), 2 Error, 3 USP Record (R-UDS.6–R-UDS.14). The client sends its Handshake first and
//! the server answers with its own (R-UDS.16, R-UDS.17); records flow only after both.
//! A frame that cannot be parsed is answered with an Error TLV and the connection closed
//! (R-UDS.23, R-UDS.24); an Error TLV received closes it too (R-UDS.25).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use crate::usp::checks::HARNESS_LIMIT;

use super::{Events, Link, MtpEventKind, MtpKind, Outgoing, Stamp, channels};

/// The synchronization bytes that start every frame (R-UDS.8).
pub const SYNC: &[u8; 4] = b"_USP";
/// TLV type of a Handshake (R-UDS.12).
pub const HANDSHAKE: u8 = 1;
/// TLV type of an Error (R-UDS.13).
pub const ERROR: u8 = 2;
/// TLV type of a USP Record (R-UDS.14).
pub const RECORD: u8 = 3;
/// The largest frame accepted: a record of [`super::max_record`] with its TLVs. A larger
/// length is treated as an unparsable frame, so a broken peer cannot make the harness
/// allocate without bound.
pub fn max_frame() -> usize {
    super::max_record() + super::RECORD_HEADROOM
}
/// How long a client waits for the server's Handshake (R-UDS.18).
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(30);

/// One TLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub kind: u8,
    pub value: Vec<u8>,
}

/// Encodes a frame holding `tlvs`.
pub fn encode(tlvs: &[Tlv]) -> Vec<u8> {
    let body: usize = tlvs.iter().map(|t| 5 + t.value.len()).sum();
    let mut out = Vec::with_capacity(8 + body);
    out.extend_from_slice(SYNC);
    out.extend_from_slice(&(body as u32).to_be_bytes());
    for t in tlvs {
        out.push(t.kind);
        out.extend_from_slice(&(t.value.len() as u32).to_be_bytes());
        out.extend_from_slice(&t.value);
    }
    out
}

/// Splits a frame body (after the header) into TLVs.
pub fn parse_body(mut body: &[u8]) -> Result<Vec<Tlv>, String> {
    let mut out = Vec::new();
    if body.is_empty() {
        return Err("a frame with no TLV (R-UDS.6)".into());
    }
    while !body.is_empty() {
        if body.len() < 5 {
            return Err(format!(
                "a truncated TLV header ({} bytes left): {}",
                body.len(),
                crate::clip::hex(body)
            ));
        }
        let kind = body[0];
        let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        if body.len() - 5 < len {
            return Err(format!(
                "a TLV of type {kind} claims {len} bytes but {} remain",
                body.len() - 5
            ));
        }
        out.push(Tlv {
            kind,
            value: body[5..5 + len].to_vec(),
        });
        body = &body[5 + len..];
    }
    Ok(out)
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub text: String,
    /// The frame was longer than [`max_frame`]: uspcheck's limit, not a broken rule.
    pub over_limit: bool,
}

impl From<String> for FrameError {
    fn from(text: String) -> Self {
        FrameError {
            text,
            over_limit: false,
        }
    }
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<Tlv>>, FrameError> {
    let mut header = [0u8; 8];
    match r.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(format!("read failed: {e}").into()),
    }
    if &header[..4] != SYNC {
        return Err(format!(
            "the frame does not start with _USP (R-UDS.8): {}",
            hex::encode(header)
        )
        .into());
    }
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if len as usize > max_frame() {
        return Err(FrameError {
            text: format!(
                "a frame of {len} bytes is over the {}-byte limit (a record of at most {} \
                 bytes and its TLVs; limits.max_record_size in the profile raises it)",
                max_frame(),
                super::max_record()
            ),
            over_limit: true,
        });
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)
        .await
        .map_err(|e| format!("the frame ended early: {e}"))?;
    Ok(Some(parse_body(&body)?))
}

fn handshake_frame(eid: &str) -> Vec<u8> {
    encode(&[Tlv {
        kind: HANDSHAKE,
        value: eid.as_bytes().to_vec(),
    }])
}

fn error_frame(text: &str) -> Vec<u8> {
    encode(&[Tlv {
        kind: ERROR,
        value: text.as_bytes().to_vec(),
    }])
}

/// Reads frames until a Handshake arrives (R-UDS.20: records before it are ignored).
async fn await_handshake(stream: &mut UnixStream) -> Result<String, String> {
    loop {
        let tlvs = match read_frame(stream).await {
            Ok(Some(t)) => t,
            Ok(None) => return Err("the peer closed before its Handshake".into()),
            Err(e) => {
                let _ = stream.write_all(&error_frame(&e.text)).await;
                return Err(e.text);
            }
        };
        if let Some(t) = tlvs.iter().find(|t| t.kind == ERROR) {
            return Err(format!(
                "the peer sent an Error: {}",
                String::from_utf8_lossy(&t.value)
            ));
        }
        if let Some(t) = tlvs.iter().find(|t| t.kind == HANDSHAKE) {
            return String::from_utf8(t.value.clone())
                .map_err(|_| "the Handshake is not UTF-8 (R-UDS.21)".to_string());
        }
    }
}

/// A listening Unix socket on which Endpoints connect.
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    own_eid: String,
}

impl Server {
    /// Binds to `path` (a stale socket file there is replaced).
    pub fn bind(path: &Path, own_eid: &str) -> std::io::Result<Server> {
        let _ = std::fs::remove_file(path);
        Ok(Server {
            listener: UnixListener::bind(path)?,
            path: path.to_path_buf(),
            own_eid: own_eid.into(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for one client, completes the handshake (the client speaks first), and
    /// returns the link.
    pub async fn accept(&self) -> Result<Link, String> {
        let path = self.path.display().to_string();
        super::logged(&path, self.handshake().await)
    }

    async fn handshake(&self) -> Result<Link, String> {
        let (mut stream, _) = self
            .listener
            .accept()
            .await
            .map_err(|e| format!("accept failed: {e}"))?;
        tracing::debug!(path = %self.path.display(), "connection accepted: awaiting its Handshake");
        let peer = tokio::time::timeout(HANDSHAKE_WAIT, await_handshake(&mut stream))
            .await
            .map_err(|_| {
                format!(
                    "no Handshake from the client within {} (R-UDS.16)",
                    crate::human::duration(HANDSHAKE_WAIT)
                )
            })??;
        stream
            .write_all(&handshake_frame(&self.own_eid))
            .await
            .map_err(|e| format!("cannot send the Handshake: {e}"))?;
        let detail = format!(
            "UDS server {}: client handshake with Endpoint ID {peer:?}",
            self.path.display()
        );
        Ok(spawn_pump(
            stream,
            format!("UDS {}", self.path.display()),
            peer,
            detail,
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Connects to a UDS server at `path` as `own_eid`, within `timeout`.
pub async fn connect(path: &Path, own_eid: &str, timeout: Duration) -> Result<Link, String> {
    let attempt = async {
        let mut stream = UnixStream::connect(path)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", path.display()))?;
        stream
            .write_all(&handshake_frame(own_eid))
            .await
            .map_err(|e| format!("cannot send the Handshake: {e}"))?;
        let peer = tokio::time::timeout(HANDSHAKE_WAIT, await_handshake(&mut stream))
            .await
            .map_err(|_| {
                format!(
                    "no Handshake from the server within {} (R-UDS.18)",
                    crate::human::duration(HANDSHAKE_WAIT)
                )
            })??;
        Ok::<_, String>((stream, peer))
    };
    let opened = tokio::time::timeout(timeout, attempt)
        .await
        .map_err(|_| {
            format!(
                "no UDS session with {} within {}",
                path.display(),
                crate::human::duration(timeout)
            )
        })
        .and_then(|r| r);
    let (stream, peer) = super::logged(&path.display().to_string(), opened)?;
    let detail = format!(
        "UDS client: connected to {}, server Endpoint ID {peer:?}",
        path.display()
    );
    Ok(spawn_pump(
        stream,
        format!("UDS {}", path.display()),
        peer,
        detail,
    ))
}

fn spawn_pump(stream: UnixStream, describe: String, peer: String, detail: String) -> Link {
    let (sender, out_rx, ev_tx, ev_rx) = channels();
    let task = pump(stream, out_rx, ev_tx.clone());
    super::spawn_link(
        &describe,
        &ev_tx,
        [MtpEventKind::Connected { detail }],
        task,
    );
    Link {
        describe,
        mtp: MtpKind::Uds,
        peer_eid: Some(peer),
        sender,
        events: ev_rx,
    }
}

async fn pump(stream: UnixStream, mut out_rx: mpsc::UnboundedReceiver<Outgoing>, ev_tx: Events) {
    let (mut rd, mut wr) = stream.into_split();
    // Bounded like the link's events: a peer that sends faster than the harness reads waits.
    let (frames_tx, mut frames_rx) = mpsc::channel(8);
    // Reading runs on its own task, so a half-read frame is never lost to a select.
    let reader = tokio::spawn(async move {
        loop {
            let f = read_frame(&mut rd).await;
            let stop = !matches!(f, Ok(Some(_)));
            // Stamped as read, not when the pump gets round to it.
            if frames_tx.send((Stamp::now(), f)).await.is_err() || stop {
                return;
            }
        }
    });
    loop {
        tokio::select! {
            out = out_rx.recv() => match out {
                Some(Outgoing::Record(bytes)) => {
                    let stamp = Stamp::now();
                    if let Err(e) = wr.write_all(&encode(&[Tlv { kind: RECORD, value: bytes.clone() }])).await {
                        ev_tx.emit(MtpEventKind::Closed { code: None, reason: format!("send failed: {e}") }).await;
                        break;
                    }
                    let _ = ev_tx.stamped(stamp, MtpEventKind::Sent(bytes)).await;
                }
                Some(Outgoing::Close { reason, .. }) => {
                    let _ = wr.shutdown().await;
                    ev_tx.emit(MtpEventKind::Closed { code: None, reason: format!("closed by us: {reason}") }).await;
                    break;
                }
                None => {
                    let _ = wr.shutdown().await;
                    break;
                }
            },
            frame = frames_rx.recv() => match frame {
                Some((read, Ok(Some(tlvs)))) => {
                    for t in tlvs {
                        match t.kind {
                            RECORD => { let _ = ev_tx.stamped(read, MtpEventKind::Record(t.value.into())).await; }
                            ERROR => {
                                // R-UDS.25: an Error ends the connection.
                                ev_tx.emit(MtpEventKind::Closed {
                                    code: None,
                                    reason: format!("the peer sent an Error TLV: {}", String::from_utf8_lossy(&t.value)),
                                }).await;
                                let _ = wr.shutdown().await;
                                reader.abort();
                                return;
                            }
                            HANDSHAKE => { ev_tx.emit(MtpEventKind::Note("a Handshake TLV after the handshake was done".into())).await; }
                            other => { ev_tx.emit(MtpEventKind::Note(format!("a TLV of unknown type {other} was ignored (R-UDS.15)"))).await; }
                        }
                    }
                }
                Some((_, Ok(None))) | None => {
                    ev_tx.emit(MtpEventKind::Closed { code: None, reason: "the connection ended".into() }).await;
                    break;
                }
                Some((_, Err(e))) => {
                    if e.over_limit {
                        ev_tx.emit(MtpEventKind::Broke {
                            requirement: HARNESS_LIMIT,
                            text: format!("the EUT sent a frame over the {} bytes uspcheck reads: {}", max_frame(), e.text),
                        }).await;
                    }
                    // R-UDS.24: answer an unparsable frame with an Error and close.
                    let _ = wr.write_all(&error_frame(&e.text)).await;
                    let _ = wr.shutdown().await;
                    ev_tx.emit(MtpEventKind::Closed { code: None, reason: format!("unparsable frame: {}", e.text) }).await;
                    break;
                }
            }
        }
    }
    reader.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sock(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("uspcheck-uds-{name}-{}.sock", std::process::id()))
    }

    #[test]
    fn frames_round_trip_and_bad_ones_are_described() {
        let f = encode(&[
            Tlv {
                kind: HANDSHAKE,
                value: b"os::00256D-0123456789".to_vec(),
            },
            Tlv {
                kind: RECORD,
                value: vec![1, 2, 3],
            },
        ]);
        assert_eq!(&f[..4], b"_USP");
        assert_eq!(
            u32::from_be_bytes([f[4], f[5], f[6], f[7]]) as usize,
            f.len() - 8
        );
        let tlvs = parse_body(&f[8..]).unwrap();
        assert_eq!(
            tlvs[1],
            Tlv {
                kind: RECORD,
                value: vec![1, 2, 3]
            }
        );
        assert!(
            parse_body(&[3, 0, 0, 0, 9, 1])
                .unwrap_err()
                .contains("claims 9")
        );
        assert!(parse_body(&[3, 0]).unwrap_err().contains("truncated"));
        assert!(parse_body(&[]).is_err());
    }

    #[tokio::test]
    async fn client_and_server_handshake_and_exchange_records() {
        let path = sock("pair");
        let server = Server::bind(&path, "proto::ctrl").unwrap();
        let (srv, cli) = tokio::join!(
            server.accept(),
            connect(&path, "proto::agent", Duration::from_secs(5))
        );
        let (mut srv, mut cli) = (srv.unwrap(), cli.unwrap());
        assert_eq!(srv.peer_eid.as_deref(), Some("proto::agent"));
        assert_eq!(cli.peer_eid.as_deref(), Some("proto::ctrl"));
        srv.events.recv().await.unwrap();
        cli.events.recv().await.unwrap();
        cli.sender.record(vec![9, 8, 7]);
        assert_eq!(
            srv.events.recv().await.unwrap().kind,
            MtpEventKind::Record(vec![9, 8, 7].into())
        );
    }

    #[tokio::test]
    async fn a_garbage_frame_gets_an_error_tlv_and_a_close() {
        let path = sock("garbage");
        let server = Server::bind(&path, "proto::ctrl").unwrap();
        let accept = tokio::spawn(async move {
            let l = server.accept().await;
            (l, server)
        });
        let mut raw = UnixStream::connect(&path).await.unwrap();
        raw.write_all(&handshake_frame("proto::agent"))
            .await
            .unwrap();
        let hs = read_frame(&mut raw).await.unwrap().unwrap();
        assert_eq!(hs[0].value, b"proto::ctrl");
        let (link, _server) = accept.await.unwrap();
        let mut link = link.unwrap();
        raw.write_all(b"NOPE\x00\x00\x00\x01x").await.unwrap();
        let err = read_frame(&mut raw).await.unwrap().unwrap();
        assert_eq!(err[0].kind, ERROR);
        loop {
            if let MtpEventKind::Closed { reason, .. } = link.events.recv().await.unwrap().kind {
                assert!(reason.contains("_USP"), "{reason}");
                break;
            }
        }
    }
}
