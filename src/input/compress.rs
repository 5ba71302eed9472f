//! Compressed inputs: gzip, xz, bzip2 and zstd, each recognised by its magic bytes
//! ([`Compression::sniff`]) and decoded to the end of the file, across every concatenated
//! stream, member or frame ([`decoder`]). Gzip resumes after a damaged member (see
//! [`super::gzip`]); the other formats stop at the first damage with an error that names the
//! format, which the scanner reports with the line it stopped at.

use std::io::{self, BufRead, Read};

use super::gzip::ResumingGzDecoder;

/// A compression format that inputs are read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Xz,
    Bzip2,
    Zstd,
}

/// The file name suffixes of compressed rotated logs, removed when finding the rotated set
/// a file belongs to.
pub(crate) const SUFFIXES: &[&str] = &[".gz", ".xz", ".bz2", ".zst"];

/// Bytes needed to tell every format apart (xz's magic is the longest).
pub(crate) const MAGIC_LEN: usize = 6;

/// The magic bytes of each format, as the range each byte may be in.
const MAGIC: &[(Compression, &[(u8, u8)])] = &[
    (Compression::Gzip, &[(0x1f, 0x1f), (0x8b, 0x8b)]),
    (
        Compression::Xz,
        &[
            (0xfd, 0xfd),
            (b'7', b'7'),
            (b'z', b'z'),
            (b'X', b'X'),
            (b'Z', b'Z'),
            (0, 0),
        ],
    ),
    (
        Compression::Bzip2,
        &[(b'B', b'B'), (b'Z', b'Z'), (b'h', b'h'), (b'1', b'9')],
    ),
    (
        Compression::Zstd,
        &[(0x28, 0x28), (0xb5, 0xb5), (0x2f, 0x2f), (0xfd, 0xfd)],
    ),
    // A zstd skippable frame (pzstd starts its files with one).
    (
        Compression::Zstd,
        &[(0x50, 0x5f), (0x2a, 0x2a), (0x4d, 0x4d), (0x18, 0x18)],
    ),
];

/// Returns true if and only if the first bytes of `head` lie in the ranges of `magic`
/// (all of `magic` when `whole`, else as many bytes as `head` has).
fn matches(head: &[u8], magic: &[(u8, u8)], whole: bool) -> bool {
    (!whole || head.len() >= magic.len())
        && head
            .iter()
            .zip(magic)
            .all(|(b, (lo, hi))| (lo..=hi).contains(&b))
}

impl Compression {
    /// The format whose magic bytes `head` (the first bytes of a file) starts with.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        MAGIC
            .iter()
            .find(|(_, m)| matches(head, m, true))
            .map(|(f, _)| *f)
    }

    /// Returns true if and only if `head` is too short to tell but could still become a
    /// format's magic bytes.
    pub(crate) fn undecided(head: &[u8]) -> bool {
        MAGIC
            .iter()
            .any(|(_, m)| head.len() < m.len() && matches(head, m, false))
    }

    /// The format a file name's suffix says, for a file that cannot be read yet.
    pub fn from_name(name: &str) -> Option<Compression> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext {
            "gz" => Some(Compression::Gzip),
            "xz" => Some(Compression::Xz),
            "bz2" => Some(Compression::Bzip2),
            "zst" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Bzip2 => "bzip2",
            Compression::Zstd => "zstd",
        }
    }
}

/// The decompressed bytes of `compressed`, every stream of it in turn.
pub(crate) fn decoder<R: BufRead + Send + 'static>(
    format: Compression,
    compressed: R,
) -> Box<dyn Read + Send> {
    match format {
        Compression::Gzip => Box::new(ResumingGzDecoder::new(compressed)),
        Compression::Xz => Box::new(Labelled {
            inner: lzma_rust2::XzReader::new(compressed, true),
            format,
        }),
        Compression::Bzip2 => Box::new(Labelled {
            inner: bzip2::bufread::MultiBzDecoder::new(compressed),
            format,
        }),
        // Every frame, skippable ones skipped; `new` fails only when out of memory.
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(compressed) {
            Ok(d) => Box::new(Labelled { inner: d, format }),
            Err(e) => Box::new(Failed(Some(e))),
        },
    }
}

/// A decoder that could not be made: its one read is the error.
struct Failed(Option<io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// A decoder whose errors say which format was damaged ("corrupt or truncated xz data: …").
struct Labelled<R> {
    inner: R,
    format: Compression,
}

impl<R: Read> Read for Labelled<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                return e;
            }
            let what = match e.kind() {
                io::ErrorKind::UnexpectedEof => "truncated",
                _ => "corrupt or truncated",
            };
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{what} {} data: {e}", self.format.name()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Lines that compress poorly, so that xz has several LZMA2 chunks (it decodes a chunk
    /// of up to 64 KiB of compressed bytes at a time).
    fn text() -> Vec<u8> {
        let mut x: u64 = 1;
        (0..12_000)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("line {i} {x:016x}{:016x}\n", x.rotate_left(17))
            })
            .collect::<String>()
            .into_bytes()
    }

    pub(crate) fn compress(format: Compression, data: &[u8]) -> Vec<u8> {
        match format {
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Xz => {
                let opts = lzma_rust2::XzOptions::with_preset(1);
                let mut w = lzma_rust2::XzWriter::new(Vec::new(), opts).unwrap();
                w.write_all(data).unwrap();
                w.finish().unwrap()
            }
            Compression::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(data, 1).unwrap(),
        }
    }

    const ALL: [Compression; 4] = [
        Compression::Gzip,
        Compression::Xz,
        Compression::Bzip2,
        Compression::Zstd,
    ];

    fn decode(format: Compression, data: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut r = decoder(format, io::Cursor::new(data));
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    #[test]
    fn every_format_is_sniffed_and_every_stream_is_read() {
        let data = text();
        let (a, b) = data.split_at(data.len() / 3);
        for f in ALL {
            let mut c = compress(f, a);
            assert_eq!(Compression::sniff(&c), Some(f));
            c.extend(compress(f, b));
            let (out, err) = decode(f, c);
            assert!(err.is_none(), "{f:?}: {err:?}");
            assert!(out == data, "{f:?}: {} bytes of {}", out.len(), data.len());
        }
        assert_eq!(Compression::sniff(b"2026-12-01 10:00:00"), None);
        assert_eq!(Compression::sniff(b"BZh0"), None);
    }

    #[test]
    fn zstd_skippable_frames_are_skipped() {
        let mut c = vec![0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        assert_eq!(Compression::sniff(&c), Some(Compression::Zstd));
        c.extend(compress(Compression::Zstd, b"one\ntwo\n"));
        assert_eq!(decode(Compression::Zstd, c).0, b"one\ntwo\n");
    }

    #[test]
    fn truncated_and_corrupt_streams_are_errors_naming_the_format() {
        let data = text();
        for f in ALL {
            let c = compress(f, &data);
            let (out, err) = decode(f, c[..c.len() / 2].to_vec());
            let err = err.unwrap_or_else(|| panic!("{f:?}: truncation not reported"));
            // Gzip ends a partial last line with a line end: compare the lines before it.
            let before_last = out[..out.len().saturating_sub(1)]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            assert!(
                before_last > 0 && data.starts_with(&out[..before_last]),
                "{f:?}: {} bytes before {err}",
                out.len()
            );
            assert!(err.to_string().contains(f.name()), "{f:?}: {err}");
            let mut bad = c.clone();
            let mid = bad.len() / 2;
            for b in &mut bad[mid..mid + 16] {
                *b ^= 0x5a;
            }
            let (out, err) = decode(f, bad);
            let err = err.unwrap_or_else(|| panic!("{f:?}: corruption not reported"));
            assert!(out.len() < data.len() || out != data, "{f:?}");
            assert!(err.to_string().contains(f.name()), "{f:?}: {err}");
        }
    }
}
