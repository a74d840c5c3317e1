//! Decompression on a thread of its own. Inflating a year's gzip takes as
//! long as parsing it, so the two run side by side: this thread reads the
//! raw bytes, inflates them (gzip with zlib-rs, zstd, or plain, chosen by
//! the magic bytes) and hands 1 MiB chunks over a short bounded queue to the
//! parsing thread, which reads them through [`Inflated`] without a copy.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Bytes per chunk handed over.
const CHUNK: usize = 1 << 20;
/// Chunks in flight: enough to ride out a slow read, little memory.
const QUEUE: usize = 4;

/// The decompressed bytes of one source, as they arrive from the thread.
pub(crate) struct Inflated {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

/// Starts inflating `raw` (named `name` in errors) on a new thread;
/// `bytes` counts the raw bytes read, for throughput.
pub(crate) fn spawn(raw: Box<dyn Read + Send>, name: &str, bytes: Arc<AtomicU64>) -> io::Result<Inflated> {
    let (tx, rx) = sync_channel(QUEUE);
    let name = name.to_string();
    std::thread::Builder::new().name("inflate".into()).spawn(move || {
        let counted = Counting { inner: raw, bytes };
        if let Err(e) = pump(counted, &tx) {
            let _ = tx.send(Err(io::Error::new(e.kind(), format!("{name}: {e}"))));
        }
    })?;
    Ok(Inflated {
        rx,
        chunk: Vec::new(),
        pos: 0,
    })
}

/// Inflates into chunks until the end, or until the reader hangs up.
fn pump(raw: impl Read, tx: &SyncSender<io::Result<Vec<u8>>>) -> io::Result<()> {
    let mut raw = BufReader::with_capacity(CHUNK, raw);
    let mut decoded: Box<dyn Read> = match raw.fill_buf()? {
        [0x1f, 0x8b, ..] => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Box::new(zstd::Decoder::with_buffer(raw)?),
        _ => Box::new(raw),
    };
    loop {
        let mut chunk = vec![0; CHUNK];
        let mut len = 0;
        while len < CHUNK {
            match decoded.read(&mut chunk[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if len == 0 {
            return Ok(());
        }
        chunk.truncate(len);
        if tx.send(Ok(chunk)).is_err() {
            return Ok(()); // the reader stopped early: nothing more is wanted
        }
    }
}

impl BufRead for Inflated {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk?;
                    self.pos = 0;
                }
                Err(_) => return Ok(&[]), // the thread is done: end of input
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.chunk.len());
    }
}

impl Read for Inflated {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

/// Counts the raw bytes read through it.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(raw: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        spawn(Box::new(io::Cursor::new(raw)), "t", Arc::default())?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn plain_gzip_multi_member_and_zstd_read_the_same() {
        let text: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{i},x\n").into_bytes()).collect();
        assert_eq!(read_all(text.clone()).unwrap(), text);
        let gz = |part: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part).unwrap();
            e.finish().unwrap()
        };
        let (a, b) = text.split_at(1_234_567);
        assert_eq!(read_all([gz(a), gz(b)].concat()).unwrap(), text);
        assert_eq!(read_all(zstd::encode_all(&text[..], 3).unwrap()).unwrap(), text);
    }

    #[test]
    fn a_corrupt_stream_is_an_error_naming_the_source() {
        let mut bad = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&[b'a'; 100_000]).unwrap();
            e.finish().unwrap()
        };
        bad.truncate(bad.len() / 2);
        let e = read_all(bad).unwrap_err();
        assert!(e.to_string().starts_with("t: "), "{e}");
    }
}
