//! Opening below the evidence root without following links, and reading an object with its
//! sidecar: the half of the directory source that touches untrusted paths.
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::source::{Body, Object, SourceError};

/// The file beside an object that holds its S3 user metadata: `{key}.metadata.json`.
pub const SIDECAR_SUFFIX: &str = ".metadata.json";

/// Largest metadata sidecar read. S3 caps an object's user metadata at 2 KB, so a sidecar written
/// from a real object is far smaller; a larger one is refused by its size, before a byte is read.
pub const MAX_SIDECAR_BYTES: u64 = 64 << 10;

/// What a file type is called in messages.
fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "file of unknown type",
    }
}

fn io_error(shown: &Path, e: Errno) -> SourceError {
    SourceError::Access(format!("{}: {}", shown.display(), std::io::Error::from(e)))
}

fn refused(shown: &Path, want: FileType, found: &str) -> SourceError {
    let what = if want == FileType::Directory { "a directory" } else { "a regular file" };
    SourceError::Access(format!(
        "{}: not {what} but a {found}; refused: only regular files inside the evidence directory are read, and links are never followed",
        shown.display()
    ))
}

/// Opens `name` in the directory `at` if it is of type `want` (a directory or a regular file),
/// without following a link. `shown` is its path for messages. A missing entry is `NotFound`.
fn open_entry(at: BorrowedFd<'_>, name: &OsStr, shown: &Path, want: FileType) -> Result<OwnedFd, SourceError> {
    open_entry_sized(at, name, false, &|| shown.to_path_buf(), want).map(|(fd, _)| fd)
}

/// [`open_entry`], also giving the size the opened entry had when it was checked. `looked`: the
/// caller saw `name` listed as `want` (a listing sees the entry as a `stat` would, a moment
/// before the open), so it is not looked at again. `shown` makes the path for messages, only
/// when there is one to give.
fn open_entry_sized(at: BorrowedFd<'_>, name: &OsStr, looked: bool, shown: &dyn Fn() -> PathBuf, want: FileType) -> Result<(OwnedFd, u64), SourceError> {
    // Look before opening: opening a FIFO or a device can block or act.
    if !looked {
        let found = match rustix::fs::statat(at, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => FileType::from_raw_mode(stat.st_mode),
            Err(Errno::NOENT) => return Err(SourceError::NotFound),
            Err(e) => return Err(io_error(&shown(), e)),
        };
        if found != want {
            return Err(refused(&shown(), want, kind_name(found)));
        }
    }
    // The flags hold even if the entry was swapped since: a link fails, a FIFO opens unblocked.
    let mut flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    if want == FileType::Directory {
        flags |= OFlags::DIRECTORY;
    }
    let fd = match rustix::fs::openat(at, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Err(SourceError::NotFound),
        // Swapped since it was looked at: most likely for a link.
        Err(Errno::LOOP | Errno::NOTDIR) => return Err(refused(&shown(), want, "file that changed while being opened")),
        Err(e) => return Err(io_error(&shown(), e)),
    };
    let stat = rustix::fs::fstat(&fd).map_err(|e| io_error(&shown(), e))?;
    let opened = FileType::from_raw_mode(stat.st_mode);
    if opened != want {
        return Err(refused(&shown(), want, kind_name(opened)));
    }
    Ok((fd, u64::try_from(stat.st_size).unwrap_or(0)))
}

/// Opens the directory `root/rel`: the root as given (the user chose it, links and all), then each
/// component of `rel` without following a link.
pub(super) fn open_dir(root: &Path, rel: &Path) -> Result<OwnedFd, SourceError> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::DIRECTORY;
    let base = match rustix::fs::openat(rustix::fs::CWD, root, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Err(SourceError::NotFound),
        Err(e) => return Err(io_error(root, e)),
    };
    open_dir_at(base.as_fd(), root, rel)
}

/// Opens the directory `rel` below the open directory `base` (shown as `base_path`), one
/// component at a time, never following a link.
pub(super) fn open_dir_at(base: BorrowedFd<'_>, base_path: &Path, rel: &Path) -> Result<OwnedFd, SourceError> {
    let mut shown = base_path.to_path_buf();
    let mut dir = base.try_clone_to_owned().map_err(|e| SourceError::Access(format!("{}: {e}", shown.display())))?;
    for part in rel.iter() {
        shown.push(part);
        dir = open_entry(dir.as_fd(), part, &shown, FileType::Directory)?;
    }
    Ok(dir)
}

/// The entries of an open directory with their types (links not followed), `.` and `..` and
/// names that are not UTF-8 (no S3 key is) left out.
pub(super) fn entries(dir: &OwnedFd, shown: &Path) -> Result<Vec<(String, FileType)>, SourceError> {
    let mut out = Vec::new();
    entries_at(dir.as_fd(), shown, usize::MAX, &mut |name, kind| out.push((name.to_string(), kind)))?;
    Ok(out)
}

/// [`entries`] of a borrowed directory descriptor, each given to `each` as it is read (no name is
/// copied that the caller does not keep). Reads no more than `max + 1` of them (more than `max`
/// says the folder is larger, without holding it all); returns how many were given.
pub(super) fn entries_at(dir: BorrowedFd<'_>, shown: &Path, max: usize, each: &mut dyn FnMut(&str, FileType)) -> Result<usize, SourceError> {
    // Read from a descriptor of its own, from the start, whatever `dir` has read; entries are
    // read in place from one buffer, not copied out one by one.
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::DIRECTORY | OFlags::NOFOLLOW;
    let fresh = rustix::fs::openat(dir, c".", flags, Mode::empty()).map_err(|e| io_error(shown, e))?;
    let mut buf = Vec::with_capacity(32 << 10);
    let mut raw = rustix::fs::RawDir::new(&fresh, buf.spare_capacity_mut());
    let mut count = 0;
    while let Some(entry) = raw.next() {
        if count > max {
            break;
        }
        let entry = entry.map_err(|e| io_error(shown, e))?;
        let name = entry.file_name();
        if name == c"." || name == c".." {
            continue;
        }
        let Ok(name) = name.to_str() else { continue };
        let kind = match entry.file_type() {
            // Some file systems do not say; ask, still without following a link.
            FileType::Unknown => match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => FileType::from_raw_mode(stat.st_mode),
                Err(Errno::NOENT) => continue,
                Err(e) => return Err(io_error(&shown.join(name), e)),
            },
            kind => kind,
        };
        each(name, kind);
        count += 1;
    }
    Ok(count)
}

/// Opens the regular file `name` in the open folder `dir`, link-free, with its size when opened (a
/// hint for reading: the file may change). `listed`: the folder's listing showed it as a regular
/// file (see [`open_entry_sized`]). `shown` makes its path, for messages only.
pub(super) fn open_file_at(dir: BorrowedFd<'_>, name: &OsStr, listed: bool, shown: &dyn Fn() -> PathBuf) -> Result<(std::fs::File, u64), SourceError> {
    let (fd, size) = open_entry_sized(dir, name, listed, shown, FileType::RegularFile)?;
    Ok((std::fs::File::from(fd), size))
}

/// Opens the object `name` in the open folder `dir` (`shown` for messages) and reads its sidecar,
/// both only if they are regular files reached without a link.
pub(super) fn open_with_sidecar(dir: BorrowedFd<'_>, name: &OsStr, shown: &Path) -> Result<Object, SourceError> {
    // O_NONBLOCK stays set on the body; it changes nothing for a regular file.
    let file = std::fs::File::from(open_entry(dir, name, shown, FileType::RegularFile)?);
    let mut sidecar_name = OsString::from(name);
    sidecar_name.push(SIDECAR_SUFFIX);
    let mut sidecar_shown = shown.to_path_buf().into_os_string();
    sidecar_shown.push(SIDECAR_SUFFIX);
    let sidecar_shown = PathBuf::from(sidecar_shown);
    let metadata = match open_entry(dir, &sidecar_name, &sidecar_shown, FileType::RegularFile) {
        Ok(fd) => read_sidecar(std::fs::File::from(fd), &sidecar_shown)?,
        Err(SourceError::NotFound) => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    Ok(Object { metadata, body: Body::File(file), etag: None, version_id: None })
}

/// A sidecar's metadata, read only up to `MAX_SIDECAR_BYTES`.
fn read_sidecar(file: std::fs::File, shown: &Path) -> Result<BTreeMap<String, String>, SourceError> {
    use std::io::Read;
    let too_large = || SourceError::Access(format!("{}: metadata sidecar larger than the {MAX_SIDECAR_BYTES}-byte limit; refused unread", shown.display()));
    let size = file.metadata().map_err(|e| SourceError::Access(format!("{}: {e}", shown.display())))?.len();
    if size > MAX_SIDECAR_BYTES {
        return Err(too_large());
    }
    // The size is checked again while reading, in case the file grows meanwhile.
    let mut bytes = Vec::new();
    file.take(MAX_SIDECAR_BYTES + 1).read_to_end(&mut bytes).map_err(|e| SourceError::Access(format!("{}: {e}", shown.display())))?;
    if bytes.len() as u64 > MAX_SIDECAR_BYTES {
        return Err(too_large());
    }
    let metadata = serde_json::from_slice::<BTreeMap<String, String>>(&bytes)
        .map_err(|e| SourceError::Access(format!("{}: not a JSON object of strings: {e}", shown.display())))?;
    Ok(metadata.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect())
}
