//! Envelope log: the inboxes' envelopes in append-only segment files beside sled, sled's
//! `deliveries` tree holding where each one lies (a [`Location`]).
//!
//! sled 0.34 keeps values inline in its tree nodes and writes a node out again at every split
//! and consolidation, so a 2 KiB envelope stored in a tree reached sled's log several times,
//! and that rewriting was the largest part of a deposit's cost. Appended to a file, an
//! envelope is written once; sled stores 32 bytes for it.
//!
//! Layout: `<db>/envelopes/<segment number as 16 lowercase hex digits>`, each segment up to
//! [`SEGMENT_BYTES`] of envelopes one after the other, with no framing: the location gives
//! offset, length and a CRC-32 of the bytes. Every open starts a new segment, so nothing is
//! ever appended after a tail a crash may have torn.
//!
//! Crash safety: an envelope is written to its segment (the kernel's page cache) before its
//! location is inserted into sled, and the group commit syncs the segments written since its
//! last sync before it syncs sled's log ([`EnvelopeLog::sync`]), so an acknowledged deposit's
//! bytes are on disk. A power loss can still leave on disk a location whose bytes were not
//! (sled may write its log before the sync); that deposit was never acknowledged, and its CRC
//! no longer matches, so it reads as lost ([`Reader::read`] returns `None`) and the inbox
//! skips it. A new segment's directory entry is synced when the segment is created.
//!
//! Space: a segment is deleted once no location points into it and it is no longer the one
//! being appended to; each removed envelope's bytes are punched out of the file at once (or
//! overwritten with zeros where the file system cannot punch holes), so an acknowledged
//! envelope neither stays readable on disk nor holds its space until its whole segment goes
//! (best effort: a copy-on-write file system or an SSD's remapping may keep the old blocks).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustix::fs::FallocateFlags;

use super::chunk_files::sync_dir;
use super::keys::read_u64;
use super::StoreError;

/// Name of the envelope directory inside the database directory.
pub(super) const ENVELOPES_DIR: &str = "envelopes";

/// A segment is closed once appending would take it past this size (a single envelope larger
/// than this still fits, alone, in a segment of its own).
const SEGMENT_BYTES: u64 = 16 << 20;

/// The envelope directory of the database in `db_dir`.
pub(super) fn envelopes_dir(db_dir: &Path) -> PathBuf {
    db_dir.join(ENVELOPES_DIR)
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Database(error.into())
}

/// Where one envelope lies in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Location {
    segment: u64,
    offset: u64,
    len: u32,
    crc: u32,
}

impl Location {
    /// Bytes of an encoded location.
    pub(super) const ENCODED_LEN: usize = 24;

    /// `u64 segment | u64 offset | u32 len | u32 crc`, big-endian.
    pub(super) fn encode(self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..8].copy_from_slice(&self.segment.to_be_bytes());
        out[8..16].copy_from_slice(&self.offset.to_be_bytes());
        out[16..20].copy_from_slice(&self.len.to_be_bytes());
        out[20..].copy_from_slice(&self.crc.to_be_bytes());
        out
    }

    /// Decodes a stored location; anything but exactly [`Location::ENCODED_LEN`] bytes is
    /// corrupt.
    pub(super) fn decode(bytes: &[u8]) -> Result<Location, StoreError> {
        const WHAT: &str = "envelope location";
        if bytes.len() != Self::ENCODED_LEN {
            return Err(StoreError::Corrupt(WHAT));
        }
        let len_crc = read_u64(bytes, 16, WHAT)?;
        let half = |n: u64| u32::try_from(n & 0xffff_ffff).map_err(|_| StoreError::Corrupt(WHAT));
        Ok(Location {
            segment: read_u64(bytes, 0, WHAT)?,
            offset: read_u64(bytes, 8, WHAT)?,
            len: half(len_crc >> 32)?,
            crc: half(len_crc)?,
        })
    }

    /// Bytes of the envelope.
    pub(super) fn len(self) -> u64 {
        u64::from(self.len)
    }
}

/// The envelope log of one database.
pub(super) struct EnvelopeLog {
    dir: PathBuf,
    /// [`SEGMENT_BYTES`] but in tests.
    segment_bytes: u64,
    state: Mutex<State>,
}

struct State {
    /// The segment being appended to.
    head: Segment,
    /// Segments appended to since the last [`EnvelopeLog::sync`], the head's earlier ones.
    unsynced: Vec<Arc<File>>,
    /// Envelopes with a location pointing into each segment (or about to have one).
    live: HashMap<u64, u64>,
}

struct Segment {
    number: u64,
    file: Arc<File>,
    end: u64,
    /// Whether anything was appended since the last sync.
    dirty: bool,
}

impl EnvelopeLog {
    /// Opens the log of the database in `db_dir`, given the locations its `deliveries` tree
    /// holds: counts them per segment, deletes the segments none points into, and starts a new
    /// segment. Returns the log and the locations whose segment does not exist (lost: the
    /// caller removes them).
    pub(super) fn open(
        db_dir: &Path,
        locations: impl IntoIterator<Item = Location>,
    ) -> Result<(EnvelopeLog, Vec<Location>), StoreError> {
        let dir = envelopes_dir(db_dir);
        if !dir.exists() {
            std::fs::create_dir_all(&dir).map_err(io)?;
            sync_dir(db_dir)?;
        }
        let mut present = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            // Anything else in the directory is not ours: left alone.
            if let Some(number) = name.to_str().and_then(parse_segment_name) {
                present.push(number);
            }
        }
        let mut live: HashMap<u64, u64> = HashMap::new();
        let mut lost = Vec::new();
        // Above every segment a location names, present or not: a new segment never takes the
        // number of a lost one, whose locations are still in sled until the caller removes them.
        let mut last = present.iter().max().copied().unwrap_or(0);
        for location in locations {
            last = last.max(location.segment);
            if present.contains(&location.segment) {
                *live.entry(location.segment).or_default() += 1;
            } else {
                lost.push(location);
            }
        }
        let mut removed_any = false;
        for number in &present {
            if !live.contains_key(number) {
                remove_if_present(&segment_path(&dir, *number))?;
                removed_any = true;
            }
        }
        if removed_any {
            sync_dir(&dir)?;
        }
        let head = create_segment(&dir, last.saturating_add(1))?;
        let log = EnvelopeLog {
            dir,
            segment_bytes: SEGMENT_BYTES,
            state: Mutex::new(State {
                head,
                unsynced: Vec::new(),
                live,
            }),
        };
        Ok((log, lost))
    }

    /// Appends `envelope`, returning where it lies; not durable until the next
    /// [`EnvelopeLog::sync`]. The location counts as live from now on: a caller that does not
    /// store it gives it back with [`EnvelopeLog::release`].
    pub(super) fn append(&self, envelope: &[u8]) -> Result<Location, StoreError> {
        let len =
            u32::try_from(envelope.len()).map_err(|_| StoreError::Corrupt("envelope size"))?;
        let (file, location) = {
            let mut state = self.lock();
            if state.head.end > 0
                && state.head.end.saturating_add(u64::from(len)) > self.segment_bytes
            {
                let next = create_segment(&self.dir, state.head.number.saturating_add(1))?;
                let full = std::mem::replace(&mut state.head, next);
                if full.dirty {
                    state.unsynced.push(full.file.clone());
                }
                if !state.live.contains_key(&full.number) {
                    remove_if_present(&segment_path(&self.dir, full.number))?;
                }
            }
            let head = &mut state.head;
            let location = Location {
                segment: head.number,
                offset: head.end,
                len,
                crc: crc32fast::hash(envelope),
            };
            head.end = head.end.saturating_add(u64::from(len));
            let file = head.file.clone();
            *state.live.entry(location.segment).or_default() += 1;
            (file, location)
        };
        // Written outside the lock: the range is this call's alone.
        if let Err(error) = file.write_all_at(envelope, location.offset) {
            self.release(&[location]);
            return Err(io(error));
        }
        // Marked for the next sync only now that the bytes are written: a sync that ran
        // between the reservation and the write must not count as covering them.
        let mut state = self.lock();
        if state.head.number == location.segment {
            state.head.dirty = true;
        } else {
            state.unsynced.push(file);
        }
        Ok(location)
    }

    /// Reads envelopes, keeping the last segment it opened.
    pub(super) fn reader(&self) -> Reader<'_> {
        Reader {
            log: self,
            open: LastOpened::default(),
        }
    }

    /// Forgets envelopes whose locations were removed from sled: punches their bytes out
    /// (zeros in their place) and deletes every segment, other than the head, that no
    /// location points into any more. Best effort: a failure here costs disk space, never
    /// data, so it is logged.
    pub(super) fn release(&self, locations: &[Location]) {
        let mut emptied = Vec::new();
        {
            let mut state = self.lock();
            for location in locations {
                if let Some(count) = state.live.get_mut(&location.segment) {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        state.live.remove(&location.segment);
                        if location.segment != state.head.number {
                            emptied.push(location.segment);
                        }
                    }
                }
            }
        }
        let kept: Vec<Location> = locations
            .iter()
            .filter(|location| !emptied.contains(&location.segment))
            .copied()
            .collect();
        if let Err(error) = self.erase(&kept) {
            tracing::warn!(%error, "could not erase an acknowledged envelope");
        }
        for number in &emptied {
            if let Err(error) = remove_if_present(&segment_path(&self.dir, *number)) {
                tracing::warn!(%error, "could not delete an empty envelope segment");
            }
        }
    }

    /// Replaces the bytes at each location with zeros, freeing their blocks where it can.
    fn erase(&self, locations: &[Location]) -> Result<(), StoreError> {
        let mut open = LastOpened::default();
        for location in locations {
            if let Some(file) = open.segment(&self.dir, location.segment)? {
                // A hole reads as zeros and gives the blocks back to the file system; where
                // holes cannot be punched, zeros are written over the bytes instead.
                let punched = rustix::fs::fallocate(
                    file,
                    FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                    location.offset,
                    location.len(),
                );
                if punched.is_err() {
                    let zeros = vec![0u8; usize::try_from(location.len).unwrap_or(0)];
                    file.write_all_at(&zeros, location.offset).map_err(io)?;
                }
            }
        }
        Ok(())
    }

    /// Makes every append that returned before this call durable.
    pub(super) fn sync(&self) -> Result<(), StoreError> {
        let files = {
            let mut state = self.lock();
            let mut files = std::mem::take(&mut state.unsynced);
            if state.head.dirty {
                state.head.dirty = false;
                files.push(state.head.file.clone());
            }
            files
        };
        for file in &files {
            if let Err(error) = file.sync_data() {
                // Not synced: they must be tried again by the next sync.
                self.lock().unsynced.extend(files.iter().cloned());
                return Err(io(error));
            }
        }
        Ok(())
    }

    /// Segment files present, for tests.
    #[cfg(test)]
    fn segments(&self) -> Vec<u64> {
        let mut numbers: Vec<u64> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().to_str().and_then(parse_segment_name))
            .collect();
        numbers.sort_unstable();
        numbers
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The counts stay usable whatever panicked while holding the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The segment a run of reads or erasures opened last, kept for the next location (a fetch
/// or an acknowledgement is mostly one segment).
#[derive(Default)]
struct LastOpened(Option<(u64, Option<File>)>);

impl LastOpened {
    /// Segment `number` of the log in `dir`, or `None` if it does not exist.
    fn segment(&mut self, dir: &Path, number: u64) -> Result<Option<&File>, StoreError> {
        if self.0.as_ref().map(|(open, _)| *open) != Some(number) {
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .open(segment_path(dir, number))
            {
                Ok(file) => Some(file),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => return Err(io(error)),
            };
            self.0 = Some((number, file));
        }
        Ok(self.0.as_ref().and_then(|(_, file)| file.as_ref()))
    }
}

/// Reads envelopes from the log (see [`EnvelopeLog::reader`]).
pub(super) struct Reader<'a> {
    log: &'a EnvelopeLog,
    open: LastOpened,
}

impl Reader<'_> {
    /// The envelope at `location`, or `None` if its bytes are not there as they were
    /// appended: a segment a crash or an operator removed, or bytes a power loss kept from
    /// the disk (possible only for a deposit that was never acknowledged).
    pub(super) fn read(&mut self, location: Location) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = self.open.segment(&self.log.dir, location.segment)? else {
            return Ok(None);
        };
        // Checked before allocating: a corrupt location may claim gigabytes.
        let size = file.metadata().map_err(io)?.len();
        if location
            .offset
            .checked_add(location.len())
            .is_none_or(|end| end > size)
        {
            return Ok(None);
        }
        let len =
            usize::try_from(location.len).map_err(|_| StoreError::Corrupt("envelope size"))?;
        let mut envelope = vec![0u8; len];
        match file.read_exact_at(&mut envelope, location.offset) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(io(error)),
        }
        Ok((crc32fast::hash(&envelope) == location.crc).then_some(envelope))
    }
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("{number:016x}"))
}

fn parse_segment_name(name: &str) -> Option<u64> {
    if name.len() != 16 || !name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u64::from_str_radix(name, 16).ok()
}

/// Creates segment `number` (empty) and makes its directory entry durable.
fn create_segment(dir: &Path, number: u64) -> Result<Segment, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(segment_path(dir, number))
        .map_err(io)?;
    sync_dir(dir)?;
    Ok(Segment {
        number,
        file: Arc::new(file),
        end: 0,
        dirty: false,
    })
}

fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(db_dir: &Path, locations: &[Location]) -> (EnvelopeLog, Vec<Location>) {
        let (mut log, lost) = EnvelopeLog::open(db_dir, locations.iter().copied()).unwrap();
        log.segment_bytes = 1000;
        (log, lost)
    }

    fn read(log: &EnvelopeLog, location: Location) -> Option<Vec<u8>> {
        log.reader().read(location).unwrap()
    }

    /// Every byte of the envelope log's files.
    fn disk_bytes(db_dir: &Path) -> Vec<u8> {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(envelopes_dir(db_dir)).unwrap() {
            bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        bytes
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window == needle)
    }

    #[test]
    fn appended_envelopes_read_back_after_a_sync_and_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (log, lost) = open(dir.path(), &[]);
        assert!(lost.is_empty());
        let one = log.append(&[1u8; 300]).unwrap();
        let two = log.append(b"second").unwrap();
        log.sync().unwrap();
        assert_eq!(read(&log, one).unwrap(), [1u8; 300]);
        assert_eq!(read(&log, two).unwrap(), b"second");
        assert_eq!(Location::decode(&two.encode()).unwrap(), two);
        drop(log);
        let (log, lost) = open(dir.path(), &[one, two]);
        assert!(lost.is_empty());
        assert_eq!(read(&log, one).unwrap(), [1u8; 300]);
        // Reopening starts a segment of its own: nothing is appended after an old tail.
        let three = log.append(b"third").unwrap();
        assert_ne!(three.segment, one.segment);
    }

    #[test]
    fn a_segment_goes_once_nothing_points_into_it_and_it_is_not_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path(), &[]);
        let first: Vec<Location> = (0u8..3).map(|i| log.append(&[i; 400]).unwrap()).collect();
        // The third did not fit in the first segment's 1000 bytes.
        assert_eq!(first[0].segment, first[1].segment);
        assert_ne!(first[1].segment, first[2].segment);
        assert_eq!(log.segments().len(), 2);
        log.release(&first[..1]);
        assert_eq!(log.segments().len(), 2, "the first segment still holds one");
        log.release(&first[1..2]);
        assert_eq!(log.segments(), vec![first[2].segment]);
        assert_eq!(read(&log, first[0]), None);
        // The head stays while empty, and goes when it is left behind empty.
        log.release(&first[2..]);
        assert_eq!(log.segments(), vec![first[2].segment]);
        let later = log.append(&[9u8; 900]).unwrap();
        assert_ne!(later.segment, first[2].segment);
        assert_eq!(log.segments(), vec![later.segment]);
        let after = log.append(&[8u8; 900]).unwrap();
        assert_eq!(log.segments(), vec![later.segment, after.segment]);
        log.release(&[later]);
        assert_eq!(log.segments(), vec![after.segment]);
    }

    #[test]
    fn a_released_envelope_no_longer_lies_on_disk() {
        // The host reading its disk after the recipient acknowledged must not find it.
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path(), &[]);
        let gone = log.append(b"acknowledged envelope bytes").unwrap();
        let kept = log.append(b"pending envelope bytes").unwrap();
        log.sync().unwrap();
        assert!(contains(
            &disk_bytes(dir.path()),
            b"acknowledged envelope bytes"
        ));
        log.release(&[gone]);
        let disk = disk_bytes(dir.path());
        assert!(!contains(&disk, b"acknowledged envelope bytes"));
        assert!(contains(&disk, b"pending envelope bytes"));
        assert_eq!(read(&log, kept).unwrap(), b"pending envelope bytes");
        assert_eq!(read(&log, gone), None, "zeros do not match its checksum");
    }

    #[test]
    fn released_envelopes_give_their_disk_blocks_back() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = open(dir.path(), &[]);
        log.segment_bytes = SEGMENT_BYTES;
        let locations: Vec<Location> = (0u8..32)
            .map(|i| log.append(&[i | 1; 64 * 1024]).unwrap())
            .collect();
        log.sync().unwrap();
        let allocated = || {
            let path = segment_path(&envelopes_dir(dir.path()), locations[0].segment);
            std::fs::metadata(path).unwrap().blocks() * 512
        };
        assert!(allocated() >= 32 * 64 * 1024);
        log.release(&locations[1..]);
        assert!(
            allocated() <= 4 * 64 * 1024,
            "{} bytes still allocated",
            allocated()
        );
        assert_eq!(read(&log, locations[0]).unwrap(), [1u8; 64 * 1024]);
    }

    #[test]
    fn opening_deletes_segments_nothing_points_into_and_reports_missing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path(), &[]);
        let orphan = log.append(&[1u8; 900]).unwrap();
        let kept = log.append(&[2u8; 900]).unwrap();
        let vanished = log.append(&[3u8; 900]).unwrap();
        log.sync().unwrap();
        drop(log);
        std::fs::remove_file(segment_path(&envelopes_dir(dir.path()), vanished.segment)).unwrap();
        std::fs::write(envelopes_dir(dir.path()).join("NOTES"), b"not ours").unwrap();
        let (log, lost) = open(dir.path(), &[kept, vanished]);
        assert_eq!(lost, vec![vanished]);
        let segments = log.segments();
        assert!(!segments.contains(&orphan.segment));
        assert!(segments.contains(&kept.segment));
        assert_eq!(read(&log, kept).unwrap(), [2u8; 900]);
        assert!(envelopes_dir(dir.path()).join("NOTES").exists());
        // The vanished segment's number is not taken again while sled still names it.
        let fresh = log.append(b"fresh").unwrap();
        assert!(fresh.segment > vanished.segment);
        assert_eq!(read(&log, vanished), None);
    }

    #[test]
    fn damaged_or_impossible_locations_read_as_missing_or_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = open(dir.path(), &[]);
        let good = log.append(b"envelope").unwrap();
        log.sync().unwrap();
        let flipped = Location {
            crc: good.crc ^ 1,
            ..good
        };
        assert_eq!(read(&log, flipped), None);
        let huge = Location {
            len: u32::MAX,
            ..good
        };
        assert_eq!(read(&log, huge), None, "not allocated, not read");
        let far = Location {
            offset: u64::MAX - 2,
            ..good
        };
        assert_eq!(read(&log, far), None);
        let elsewhere = Location {
            segment: 0xdead,
            ..good
        };
        assert_eq!(read(&log, elsewhere), None);
        for len in [0, 23, 25] {
            assert!(matches!(
                Location::decode(&vec![0u8; len]),
                Err(StoreError::Corrupt(_))
            ));
        }
    }
}
