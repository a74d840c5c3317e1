//! CSV records with a bound on their size. `csv::Reader` grows a record's
//! buffer without limit, so one newline-free line (or a quote that never
//! closes) would be held whole in memory; here a record longer than
//! [`MAX_RECORD`] is read through and reported as [`Read::TooLong`],
//! holding at most that much. The same state machine (`csv_core`) splits
//! fields, so quoting rules are those of the csv crate.

use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

use limits::MAX_FIELDS;
pub(crate) use limits::MAX_RECORD;

// `cargo fuzz` builds with `--cfg fuzzing`, which rustc does not know of.
#[allow(unexpected_cfgs)]
mod limits {
    /// Most bytes of field data one record may hold (a real row is ~300).
    #[cfg(not(fuzzing))]
    pub(crate) const MAX_RECORD: usize = 64 * 1024;
    /// Most fields one record may have (the widest schema has ~110).
    #[cfg(not(fuzzing))]
    pub(super) const MAX_FIELDS: usize = 4096;
    // Small under the fuzzer (loader/fuzz), so that short inputs reach the limits.
    #[cfg(fuzzing)]
    pub(crate) const MAX_RECORD: usize = 512;
    #[cfg(fuzzing)]
    pub(super) const MAX_FIELDS: usize = 40;
}

/// One record's fields.
#[derive(Debug, Default)]
pub(crate) struct Record {
    data: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
}

impl Record {
    /// The number of fields.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Field `i`, if there is one.
    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.data[start..self.ends[i]])
    }

    /// Field `i` as text, if there is one: from `whole` (the record as text,
    /// when it all is UTF-8) without a check, else checked on its own.
    pub(crate) fn text<'r>(&'r self, whole: Option<&'r str>, i: usize) -> Option<Result<&'r str, std::str::Utf8Error>> {
        let bytes = self.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        match whole.and_then(|w| w.get(start..self.ends[i])) {
            Some(text) => Some(Ok(text)),
            None => Some(std::str::from_utf8(bytes)),
        }
    }

    /// The whole record's field data as text, if it all is UTF-8 (one check
    /// of ~300 bytes is cheaper than ten of a few each).
    pub(crate) fn as_str(&self) -> Option<&str> {
        let end = if self.len == 0 { 0 } else { self.ends[self.len - 1] };
        std::str::from_utf8(&self.data[..end]).ok()
    }

    /// Every field, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
impl Record {
    /// The first record of `text`, for tests.
    pub(crate) fn parse(text: &str) -> Record {
        let mut rec = Record::default();
        Records::new(text.as_bytes()).read(&mut rec).expect("in memory");
        rec
    }
}

/// What one read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// A record, starting on this line (1-based).
    Record { line: u64 },
    /// A record longer than [`MAX_RECORD`] (or with more than 4096 fields),
    /// skipped: its first line and its length in bytes.
    TooLong { line: u64, bytes: u64 },
    /// The end of the input.
    End,
}

/// Reads CSV records from a buffered reader.
pub(crate) struct Records<R> {
    input: R,
    core: csv_core::Reader,
    /// The line the next record starts on.
    line: u64,
}

impl<R: BufRead> Records<R> {
    pub(crate) fn new(input: R) -> Self {
        // The state machine drops a UTF-8 BOM at the start of the first input
        // it is given: wherever the first record the fast path leaves to it
        // starts, anywhere in the file. A blank line first (skipped, and lines
        // are counted as differences) stops that: a BOM is data on either path,
        // and `columns::open` drops the header's.
        let mut core = csv_core::Reader::new();
        let _ = core.read_record(b"\n", &mut [0; 1], &mut [0; 1]);
        Records { input, core, line: 1 }
    }

    /// Reads the next record into `rec`.
    pub(crate) fn read(&mut self, rec: &mut Record) -> io::Result<Read> {
        if rec.data.is_empty() {
            rec.data.resize(1024.min(MAX_RECORD), 0);
            rec.ends.resize(64.min(MAX_FIELDS), 0);
        }
        self.skip_blank_lines()?;
        let line = self.line;
        if self.plain_line(rec)? {
            self.line += 1;
            return Ok(Read::Record { line });
        }
        let before = self.core.line();
        let read = self.read_core(rec, line);
        self.line += self.core.line() - before;
        read
    }

    /// Consumes the line ends before a record (the state machine skips
    /// them too), so the record's line is where its text starts.
    fn skip_blank_lines(&mut self) -> io::Result<()> {
        loop {
            let buf = self.input.fill_buf()?;
            let n = buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            if n == 0 {
                return Ok(());
            }
            self.line += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(n);
        }
    }

    /// The fast path, for the common line: whole in the buffer, no quote,
    /// no carriage return but at its end. Its fields are the runs between
    /// commas, exactly as the state machine would split them, in three
    /// quarters of its time; anything else is left to [`Self::read_core`].
    fn plain_line(&mut self, rec: &mut Record) -> io::Result<bool> {
        let buf = self.input.fill_buf()?;
        let Some(nl) = memchr::memchr(b'\n', buf) else {
            return Ok(false);
        };
        let text = &buf[..nl];
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() || text.len() > MAX_RECORD || memchr::memchr2(b'"', b'\r', text).is_some() {
            return Ok(false);
        }
        if rec.data.len() < text.len() {
            rec.data.resize(text.len().next_power_of_two().min(MAX_RECORD), 0);
        }
        // One pass: bytes copied but commas, which end fields.
        let (mut out, mut fields) = (0, 0);
        for &b in text {
            if b == b',' {
                if fields + 1 == rec.ends.len() {
                    if rec.ends.len() == MAX_FIELDS {
                        return Ok(false);
                    }
                    rec.ends.resize(rec.ends.len() * 2, 0);
                }
                rec.ends[fields] = out;
                fields += 1;
            } else {
                rec.data[out] = b;
                out += 1;
            }
        }
        rec.ends[fields] = out;
        fields += 1;
        rec.len = fields;
        self.input.consume(nl + 1);
        Ok(true)
    }

    /// Any record, with the state machine.
    fn read_core(&mut self, rec: &mut Record, line: u64) -> io::Result<Read> {
        let (mut out, mut nends) = (0, 0);
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout, nend) = self
                .core
                .read_record(input, &mut rec.data[out..], &mut rec.ends[nends..]);
            self.input.consume(nin);
            out += nout;
            nends += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                // One byte past the limit: the state machine wants room for
                // more before it looks at the record's end, so a record of
                // exactly MAX_RECORD bytes (which the fast path takes) fits.
                ReadRecordResult::OutputFull if rec.data.len() <= MAX_RECORD => {
                    let grown = (rec.data.len() * 2).min(MAX_RECORD + 1);
                    rec.data.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull if rec.ends.len() < MAX_FIELDS => {
                    let grown = (rec.ends.len() * 2).min(MAX_FIELDS);
                    rec.ends.resize(grown, 0);
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                    let bytes = out as u64 + self.skip_record(rec)?;
                    rec.len = 0;
                    return Ok(Read::TooLong { line, bytes });
                }
                ReadRecordResult::Record if out > MAX_RECORD => {
                    rec.len = 0;
                    return Ok(Read::TooLong {
                        line,
                        bytes: out as u64,
                    });
                }
                ReadRecordResult::Record => {
                    rec.len = nends;
                    return Ok(Read::Record { line });
                }
                ReadRecordResult::End => {
                    rec.len = 0;
                    return Ok(Read::End);
                }
            }
        }
    }

    /// Reads to the end of the current record, keeping nothing; the bytes skipped.
    fn skip_record(&mut self, rec: &mut Record) -> io::Result<u64> {
        let mut skipped = 0u64;
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout, _) = self.core.read_record(input, &mut rec.data, &mut rec.ends);
            self.input.consume(nin);
            skipped += nout as u64;
            if matches!(res, ReadRecordResult::Record | ReadRecordResult::End) {
                return Ok(skipped);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<(Read, Vec<String>)> {
        let mut r = Records::new(text);
        let mut rec = Record::default();
        let mut out = Vec::new();
        loop {
            let read = r.read(&mut rec).unwrap();
            let fields = rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            if read == Read::End {
                return out;
            }
            out.push((read, fields));
        }
    }

    #[test]
    fn fields_lines_and_quotes() {
        let got = all(b"a,b,c\n1,\"x,\"\"y\"\"\nz\",3\r\n\n4,,\n");
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            (Read::Record { line: 1 }, vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(got[1].0, Read::Record { line: 2 });
        assert_eq!(got[1].1, ["1", "x,\"y\"\nz", "3"]);
        assert_eq!(
            got[2],
            (Read::Record { line: 5 }, vec!["4".into(), "".into(), "".into()])
        );
    }

    /// The fast path and the state machine split fields as the csv crate
    /// does, whichever path each record takes; lines are where each record's
    /// text starts (the csv crate puts a record after CRLF on the line before).
    #[test]
    fn both_paths_split_as_the_csv_crate() {
        let text = b"h1,h2,h3\r\n1,,3\n\n\"q,1\",2,3\nx\ry,2\n\r\n,,\n\"multi\nline\",b\nlast,no,newline";
        let (lines, ours): (Vec<u64>, Vec<Vec<String>>) = all(text)
            .into_iter()
            .map(|(read, f)| match read {
                Read::Record { line } => (line, f),
                other => panic!("{other:?}"),
            })
            .unzip();
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&text[..]);
        let theirs: Vec<Vec<String>> = csv
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(ours, theirs);
        assert_eq!(lines, [1, 2, 4, 5, 5, 7, 8, 10]);
    }

    /// A character split across two fields: the record's bytes are UTF-8 as
    /// a whole (the one cheap check) but neither field is. (The fuzzer's
    /// `header` target found such a row; the check per field holds.)
    #[test]
    fn a_character_split_across_fields_is_not_text() {
        let mut rec = Record::default();
        Records::new(&b"a\xef,\xbb\xbfb\n"[..]).read(&mut rec).unwrap();
        let whole = rec.as_str();
        assert_eq!(whole, Some("a\u{feff}b"));
        assert!(rec.text(whole, 0).unwrap().is_err());
        assert!(rec.text(whole, 1).unwrap().is_err());
    }

    /// A BOM is data on both paths, at the start as further on: the state
    /// machine dropped one at the start of the first record it read, which
    /// could be any (found by the fuzzer's `header` target).
    #[test]
    fn a_bom_is_kept_whichever_path_reads_the_record() {
        let text = "\u{feff}h,\"i\"\na,b\n\u{feff}\"q\",1\n\u{feff}x,2\n".as_bytes();
        let got: Vec<Vec<String>> = all(text).into_iter().map(|(_, f)| f).collect();
        let want = [
            ["\u{feff}h", "i"],
            ["a", "b"],
            ["\u{feff}\"q\"", "1"],
            ["\u{feff}x", "2"],
        ];
        assert_eq!(got, want);
        // The same through a buffer too small for the fast path.
        let mut r = Records::new(std::io::BufReader::with_capacity(2, text));
        let mut rec = Record::default();
        for fields in want {
            assert!(matches!(r.read(&mut rec).unwrap(), Read::Record { .. }));
            assert!(rec.iter().eq(fields.iter().map(|f| f.as_bytes())));
        }
        assert_eq!(r.read(&mut rec).unwrap(), Read::End);
    }

    /// A record of exactly the limits is read whichever path reads it, one
    /// byte or field more is too long. (The state machine refused a record
    /// of exactly MAX_RECORD bytes that the fast path took, so one at a
    /// buffer's edge was rejected: found by the fuzzer's `records` target.)
    #[test]
    fn the_limits_are_the_same_on_both_paths() {
        let at_most = "x".repeat(MAX_RECORD);
        let over = "x".repeat(MAX_RECORD + 1);
        let fields = ",".repeat(MAX_FIELDS - 1);
        let too_many = ",".repeat(MAX_FIELDS);
        for (line, fits) in [(&at_most, true), (&over, false), (&fields, true), (&too_many, false)] {
            // Plain; quoted (the state machine reads it); and through a buffer too small for the fast path.
            let quoted = if line.starts_with('x') {
                format!("\"{line}\"")
            } else {
                format!("\"\"{line}")
            };
            for text in [format!("a\n{line}\nb\n"), format!("a\n{quoted}\nb\n")] {
                for capacity in [1 << 20, 7] {
                    let mut r = Records::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
                    let mut rec = Record::default();
                    assert_eq!(r.read(&mut rec).unwrap(), Read::Record { line: 1 });
                    let read = r.read(&mut rec).unwrap();
                    assert_eq!(
                        matches!(read, Read::Record { line: 2 }),
                        fits,
                        "{} bytes: {read:?}",
                        line.len()
                    );
                    assert_eq!(r.read(&mut rec).unwrap(), Read::Record { line: 3 });
                }
            }
        }
    }

    #[test]
    fn a_huge_line_is_skipped_whole_and_reading_goes_on() {
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * MAX_RECORD));
        text.extend(b"\n1,2\n");
        let got = all(&text);
        assert_eq!(
            got[1].0,
            Read::TooLong {
                line: 2,
                bytes: 3 * MAX_RECORD as u64
            }
        );
        assert_eq!(got[2], (Read::Record { line: 3 }, vec!["1".into(), "2".into()]));
        // An unclosed quote runs to the end of the input, then ends it.
        let mut open = b"a,b\n\"".to_vec();
        open.extend(std::iter::repeat_n(b'y', 2 * MAX_RECORD));
        assert!(matches!(all(&open)[1].0, Read::TooLong { line: 2, .. }));
        // So does a line of nothing but separators.
        let commas = vec![b','; 100_000];
        assert!(matches!(all(&commas)[0].0, Read::TooLong { line: 1, .. }));
    }
}
