//! A local evidence copy: `ROOT/{bucket}/{key}`, with each object's S3 user metadata in a sidecar
//! `ROOT/{bucket}/{key}.metadata.json` (a flat JSON object of strings).
//!
//! Nothing below the root is trusted: whoever handed over the copy chose its files. So every path
//! is opened from the root one component at a time (`openat`), never following a symbolic link,
//! file or folder, at any component below the root: a link could make bytes outside the copy pose
//! as evidence. Only regular files are read; a FIFO, socket or device is refused before it is
//! opened (and opened with `O_NONBLOCK` in case it was swapped in meanwhile), so nothing can make
//! a read block. The root itself is the user's choice and may be a link.
use std::collections::BTreeMap;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustix::fs::FileType;

use super::{LocalFiles, Object, Source, SourceError};

mod nofollow;

use self::nofollow::{entries, open_dir, open_dir_at, open_file_at, open_with_sidecar};
pub use self::nofollow::{MAX_SIDECAR_BYTES, SIDECAR_SUFFIX};

pub struct DirSource {
    root: PathBuf,
    /// The folders `get` opened last: a digest folder holds a day of digests.
    folders: Arc<Mutex<Folders>>,
    /// The folders listed last, shared by the listing walk and the workers' opens.
    listed: Arc<Listed>,
}

/// A folder's entries (not `.` and `..`) as one listing showed them, sorted by name. A log file
/// the listing showed as a regular file is opened without a `stat` of its own: the listing was its
/// look. The completeness walk reads the same listing, so a folder is listed once, not twice. The
/// names are held end to end in one string, so that a listing of thousands is one allocation to
/// free, not thousands at the end of a run.
#[derive(Default)]
struct Listing {
    names: String,
    /// Each entry's name (its start and end in `names`) and type.
    entries: Vec<(u32, u32, FileType)>,
}

impl Listing {
    /// Adds an entry, in any order ([`Listing::sorted`] sorts them). None if the names no longer
    /// fit the offsets (a folder too large to keep is not kept).
    fn push(&mut self, name: &str, kind: FileType) -> Option<()> {
        let start = u32::try_from(self.names.len()).ok()?;
        self.names.push_str(name);
        self.entries.push((start, u32::try_from(self.names.len()).ok()?, kind));
        Some(())
    }

    /// The same entries, sorted by name.
    fn sorted(mut self) -> Listing {
        let Listing { names, entries } = &mut self;
        entries.sort_unstable_by(|a, b| Listing::name(names, a).cmp(Listing::name(names, b)));
        self
    }

    /// The name of `entry`, one of `names`'s entries.
    fn name<'n>(names: &'n str, &(start, end, _): &(u32, u32, FileType)) -> &'n str {
        &names[start as usize..end as usize]
    }

    fn iter(&self) -> impl Iterator<Item = (&str, FileType)> {
        self.entries.iter().map(|entry| (Listing::name(&self.names, entry), entry.2))
    }

    fn is_regular_file(&self, name: &str) -> bool {
        let found = self.entries.binary_search_by(|entry| Listing::name(&self.names, entry).cmp(name));
        found.is_ok_and(|i| self.entries[i].2 == FileType::RegularFile)
    }
}

/// The listings of the few folders listed last, by their '/'-separated path below the root: each
/// read once, by whichever thread wants it first, while the others wanting it wait.
#[derive(Default)]
struct Listed(Mutex<Vec<(String, Arc<OnceLock<FolderListing>>)>>);

/// One folder's listing: None when too large to keep.
type FolderListing = Result<Option<Arc<Listing>>, SourceError>;

impl Listed {
    /// Folders whose listing is kept at once: the walk lists a few days ahead of the workers.
    const KEPT: usize = 8;
    /// Largest folder kept: a day of a busy region's log files is a few thousand. (Tests use a
    /// small one, to reach the larger folders' path.)
    const MAX: usize = if cfg!(test) { 8 } else { 20_000 };

    /// The listing of the open folder `dir` (`rel`, shown as `shown`), listed on first use and
    /// kept for the few folders used last; None for a folder too large to keep (its listing stops
    /// reading past that size).
    fn get(&self, dir: BorrowedFd<'_>, rel: &str, shown: &Path) -> FolderListing {
        let once = {
            let mut listed = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match listed.iter().find(|(p, _)| p == rel) {
                Some((_, once)) => once.clone(),
                None => {
                    if listed.len() >= Listed::KEPT {
                        listed.remove(0);
                    }
                    let once = Arc::new(OnceLock::new());
                    listed.push((rel.to_string(), once.clone()));
                    once
                }
            }
        };
        once.get_or_init(|| {
            let (mut listing, mut fits) = (Listing::default(), true);
            let count = nofollow::entries_at(dir, shown, Listed::MAX, &mut |name, kind| fits = fits && listing.push(name, kind).is_some())?;
            Ok((fits && count <= Listed::MAX).then(|| Arc::new(listing.sorted())))
        })
        .clone()
    }
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into(), folders: Arc::default(), listed: Arc::default() }
    }

    /// Maps a bucket and key to a path, refusing anything that could leave the root: keys come
    /// from evidence and are hostile until checked.
    fn path(&self, bucket: &str, key: &str) -> Result<PathBuf, SourceError> {
        let mut path = self.bucket_path(bucket)?;
        path.push(checked(key)?);
        Ok(path)
    }

    /// Where `bucket`/`key` lies under the root; refuses keys that would leave it.
    pub fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, SourceError> {
        self.path(bucket, key)
    }

    fn bucket_path(&self, bucket: &str) -> Result<PathBuf, SourceError> {
        Ok(self.root.join(checked(bucket)?))
    }
}

/// A bucket or key as a path below the root: '/'-separated names, none of them empty, `.` or
/// `..`. An empty name is refused too (not skipped, as a path would), so that no two keys reach
/// the same file: `a//b` is not `a/b`.
fn checked(part: &str) -> Result<&Path, SourceError> {
    if !part.split('/').all(name_ok) {
        return Err(SourceError::Access(format!("refusing unsafe path component '{part}'")));
    }
    Ok(Path::new(part))
}

/// One name of a checked path: not empty, `.` or `..`, and no `\` or NUL.
fn name_ok(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.bytes().any(|b| b == b'\\' || b == 0)
}

#[async_trait::async_trait]
impl Source for DirSource {
    /// Lists every entry that is not a directory, sidecars excluded: symbolic links, FIFOs and
    /// sockets too, so that a validator looking for one counts it unreadable (`get` refuses it)
    /// instead of the object silently vanishing from the listing. Linked folders are listed the
    /// same way and never entered. A link on the path to the listed folder itself is refused.
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync),
    ) -> Result<Vec<String>, SourceError> {
        checked(bucket)?;
        // Only descend into the directory the prefix names; keys are '/'-separated like S3's.
        let dir_part = prefix.rfind('/').map(|i| &prefix[..i]).unwrap_or("");
        if !dir_part.is_empty() {
            checked(dir_part)?;
        }
        let (root, bucket, listed) = (self.root.clone(), bucket.to_string(), self.listed.clone());
        let (dir_part, prefix, start_after) = (dir_part.to_string(), prefix.to_string(), start_after.map(str::to_string));
        // One blocking hop for the whole walk, not one per directory entry.
        let walked = tokio::task::spawn_blocking(move || walk(&root, &bucket, &dir_part, &prefix, start_after.as_deref(), &listed)).await;
        let mut keys = walked.map_err(|e| SourceError::Access(format!("listing task failed: {e}")))??;
        keys.sort();
        if let Some(cut) = keys.iter().position(|k| stop(k)) {
            keys.truncate(cut);
        }
        Ok(keys)
    }

    /// Real folders only: a linked folder is no region or account of this copy, and is skipped.
    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut rel = checked(bucket)?.to_path_buf();
        match prefix.trim_end_matches('/') {
            "" => {}
            p => rel.push(checked(p)?),
        }
        let root = self.root.clone();
        let listed = tokio::task::spawn_blocking(move || -> Result<Vec<String>, SourceError> {
            let dir = match open_dir(&root, &rel) {
                Ok(dir) => dir,
                Err(SourceError::NotFound) => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let shown = root.join(&rel);
            let mut names = Vec::new();
            for (name, kind) in entries(&dir, &shown)? {
                if kind == FileType::Directory {
                    names.push(name);
                }
            }
            names.sort();
            Ok(names)
        })
        .await;
        listed.map_err(|e| SourceError::Access(format!("listing task failed: {e}")))?
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let (root, folders) = (self.root.clone(), self.folders.clone());
        let (bucket, key) = (bucket.to_string(), key.to_string());
        // Open, check and read the sidecar in one blocking hop.
        let opened = tokio::task::spawn_blocking(move || {
            let (rel, name) = locate(&bucket, &key)?;
            // A copy of the folder's descriptor, so that the lock is not held while reading.
            let folder = folders.lock().unwrap_or_else(|e| e.into_inner()).get(&root, rel.as_ref())?.fd.try_clone();
            let folder = folder.map_err(|e| SourceError::Access(format!("{}: {e}", root.join(rel.as_ref()).display())))?;
            open_with_sidecar(folder.as_fd(), name.as_ref(), &root.join(&bucket).join(&key))
        })
        .await;
        opened.map_err(|e| SourceError::Access(format!("opening task failed: {e}")))?
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn local(&self) -> Option<&dyn LocalFiles> {
        Some(self)
    }
}

/// Folders held open between object opens, so that a file costs one open rather than one per
/// path component. Each was opened link-free from the root; a handful at most are kept, each with
/// its listing's regular files once a log file was opened there.
#[derive(Default)]
pub struct Folders {
    open: Vec<Folder>,
}

struct Folder {
    /// '/'-separated, below the root, checked.
    rel: String,
    fd: std::os::fd::OwnedFd,
    /// Its listing, once looked up (`Some(None)`: too large to keep).
    listing: Option<Option<Arc<Listing>>>,
}

impl Folders {
    const KEPT: usize = 8;

    /// The open folder `rel` below `root`, opened on first use.
    fn get(&mut self, root: &Path, rel: &str) -> Result<&mut Folder, SourceError> {
        let at = match self.open.iter().position(|f| f.rel == rel) {
            Some(i) => i,
            None => {
                if self.open.len() >= Folders::KEPT {
                    self.open.remove(0);
                }
                self.open.push(Folder { rel: rel.to_string(), fd: open_dir(root, Path::new(rel))?, listing: None });
                self.open.len() - 1
            }
        };
        Ok(&mut self.open[at])
    }

    /// The folder of `bucket`/`key` and the key's file name, checked as [`locate`] checks them. A
    /// folder already open had its names checked when it was opened, so then only the file name
    /// is checked, and no folder name is built: a log file's open costs no more than it must.
    fn locate<'k>(&mut self, root: &Path, bucket: &str, key: &'k str) -> Result<(&mut Folder, &'k str), SourceError> {
        let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
        // The folder opened last first: a worker opens a day's log files one after another.
        match self.open.iter().rposition(|f| f.is(bucket, dir)) {
            Some(at) if name_ok(name) => Ok((&mut self.open[at], name)),
            _ => {
                let (rel, _) = locate(bucket, key)?;
                Ok((self.get(root, &rel)?, name))
            }
        }
    }
}

impl Folder {
    /// Whether this is the folder `dir` of `bucket` ('' for the bucket's own), as [`folder_rel`]
    /// names it.
    fn is(&self, bucket: &str, dir: &str) -> bool {
        match self.rel.strip_prefix(bucket) {
            Some("") => dir.is_empty(),
            Some(rest) => rest.strip_prefix('/') == Some(dir),
            None => false,
        }
    }
}

impl LocalFiles for DirSource {
    fn open(&self, folders: &mut Folders, bucket: &str, key: &str) -> Result<(std::fs::File, u64), SourceError> {
        let (folder, name) = folders.locate(&self.root, bucket, key)?;
        let listing = match &folder.listing {
            Some(listing) => listing,
            None => &*folder.listing.insert(self.listed.get(folder.fd.as_fd(), &folder.rel, &self.root.join(&folder.rel))?),
        };
        let listed = listing.as_ref().is_some_and(|l| l.is_regular_file(name));
        open_file_at(folder.fd.as_fd(), name.as_ref(), listed, &|| self.root.join(bucket).join(key))
    }

    fn open_object(&self, folders: &mut Folders, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let (folder, name) = folders.locate(&self.root, bucket, key)?;
        open_with_sidecar(folder.fd.as_fd(), name.as_ref(), &self.root.join(bucket).join(key))
    }
}

/// An object's folder below the root ('/'-separated) and its file name, each part checked.
fn locate<'k>(bucket: &'k str, key: &'k str) -> Result<(std::borrow::Cow<'k, str>, &'k str), SourceError> {
    checked(bucket)?;
    checked(key)?;
    let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
    Ok((folder_rel(bucket, dir), name))
}

/// A folder's name below the root: `dir` (in `bucket`, '' for the bucket itself) as `Folders` and
/// `Listed` know it, so that the opens and the walk find each other's listings.
fn folder_rel<'k>(bucket: &'k str, dir: &str) -> std::borrow::Cow<'k, str> {
    if dir.is_empty() {
        bucket.into()
    } else {
        format!("{bucket}/{dir}").into()
    }
}

/// The keys under `bucket`/`dir_part` that begin with `prefix` and sort after `start_after`,
/// sidecars excluded. Every folder is reopened from the bucket's folder, link-free, rather than
/// held open, so a wide tree cannot exhaust file descriptors.
fn walk(root: &Path, bucket: &str, dir_part: &str, prefix: &str, start_after: Option<&str>, listed: &Listed) -> Result<Vec<String>, SourceError> {
    let bucket_root = root.join(bucket);
    let bucket_dir = match open_dir(root, Path::new(bucket)) {
        Ok(dir) => dir,
        Err(SourceError::NotFound) => return Err(SourceError::Access(format!("no bucket directory {}", bucket_root.display()))),
        Err(e) => return Err(e),
    };
    let mut keys = Vec::new();
    let mut stack = vec![dir_part.to_string()];
    while let Some(rel) = stack.pop() {
        let dir = match open_dir_at(bucket_dir.as_fd(), &bucket_root, Path::new(&rel)) {
            Ok(dir) => dir,
            Err(SourceError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let shown = bucket_root.join(&rel);
        let kept = listed.get(dir.as_fd(), &folder_rel(bucket, &rel), &shown)?;
        let unkept = match kept {
            Some(_) => Vec::new(),
            None => entries(&dir, &shown)?,
        };
        let all = kept.iter().flat_map(|l| l.iter()).chain(unkept.iter().map(|(n, k)| (n.as_str(), *k)));
        for (name, kind) in all {
            let mut key = String::with_capacity(rel.len() + 1 + name.len());
            if !rel.is_empty() {
                key.push_str(&rel);
                key.push('/');
            }
            key.push_str(name);
            if kind == FileType::Directory {
                // Folders whose every key sorts before `start_after` are not entered: a short
                // range of a long history reads the range's folders, not the history's.
                let below = format!("{key}/");
                if start_after.is_some_and(|s| below.as_str() < s && !s.starts_with(&below)) {
                    continue;
                }
                stack.push(key);
                continue;
            }
            if key.ends_with(SIDECAR_SUFFIX) || !key.starts_with(prefix) || start_after.is_some_and(|s| key.as_str() <= s) {
                continue;
            }
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Writes an object and its metadata sidecar in the layout `DirSource` reads.
pub fn write_object(root: &Path, bucket: &str, key: &str, body: &[u8], metadata: &BTreeMap<String, String>) -> std::io::Result<()> {
    let path = DirSource::new(root)
        .path(bucket, key)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, body)?;
    if !metadata.is_empty() {
        let mut sidecar = path.into_os_string();
        sidecar.push(SIDECAR_SUFFIX);
        std::fs::write(sidecar, serde_json::to_vec_pretty(metadata)?)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::source::Body;

    #[test]
    fn keys_cannot_escape_the_root() {
        let d = DirSource::new("/evidence");
        assert_eq!(d.path("b", "AWSLogs/1/x.json.gz").unwrap(), PathBuf::from("/evidence/b/AWSLogs/1/x.json.gz"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "a\\..\\x", ""] {
            assert!(d.path("b", bad).is_err(), "{bad}");
        }
        assert!(d.path("..", "x").is_err());
    }

    /// Runs `f` on a fresh runtime, failing if it takes more than 10 s: a blocked open must fail
    /// the test, not hang it (the blocked worker thread is abandoned).
    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let out = rt.block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), f).await });
        rt.shutdown_background();
        out.expect("timed out: the directory source blocks")
    }

    /// An evidence root with bucket `b` holding `a/real` (with a sidecar), and a folder outside it.
    fn evidence() -> (tempfile::TempDir, tempfile::TempDir) {
        let (root, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let meta = BTreeMap::from([("signature".to_string(), "00".to_string())]);
        write_object(root.path(), "b", "a/real", b"real", &meta).unwrap();
        std::fs::write(outside.path().join("secret"), b"outside").unwrap();
        std::fs::write(outside.path().join("meta.json"), br#"{"signature":"ff"}"#).unwrap();
        (root, outside)
    }

    /// Asserts an access error whose message names `what`.
    pub(crate) fn refused(result: Result<Object, SourceError>, what: &str) {
        match result {
            Err(SourceError::Access(why)) => assert!(why.contains(what), "{why}"),
            Err(e) => panic!("expected an access error naming '{what}', got {e:?}"),
            Ok(_) => panic!("expected an access error naming '{what}', got the object"),
        }
    }

    #[test]
    fn symlinked_file_is_refused_and_listed() {
        let (root, outside) = evidence();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("b/a/link")).unwrap();
        let d = DirSource::new(root.path());
        refused(run(d.get("b", "a/link")), "symbolic link");
        // Listed, so a validator that looks for it counts it unreadable rather than absent.
        assert_eq!(run(d.list("b", "a/", None, &|_| false)).unwrap(), ["a/link", "a/real"]);
        assert!(run(d.get("b", "a/real")).is_ok());
    }

    #[test]
    fn symlinked_directory_is_neither_followed_nor_walked() {
        let (root, outside) = evidence();
        std::os::unix::fs::symlink(outside.path(), root.path().join("b/out")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("b/a/out")).unwrap();
        let d = DirSource::new(root.path());
        refused(run(d.get("b", "out/secret")), "symbolic link");
        refused(run(d.get("b", "a/out/secret")), "symbolic link");
        // A link below the walk is listed as itself and never entered; a link on the prefix's own
        // path cannot be listed at all.
        assert_eq!(run(d.list("b", "", None, &|_| false)).unwrap(), ["a/out", "a/real", "out"]);
        assert!(matches!(run(d.list("b", "out/", None, &|_| false)), Err(SourceError::Access(_))));
        assert_eq!(run(d.list_prefixes("b", "")).unwrap(), ["a"]);
        assert!(matches!(run(d.list_prefixes("b", "out/")), Err(SourceError::Access(_))));
    }

    #[test]
    fn symlinked_bucket_is_refused() {
        let (root, _outside) = evidence();
        std::os::unix::fs::symlink(root.path().join("b"), root.path().join("linked")).unwrap();
        let d = DirSource::new(root.path());
        refused(run(d.get("linked", "a/real")), "symbolic link");
        assert!(matches!(run(d.list("linked", "", None, &|_| false)), Err(SourceError::Access(_))));
        assert!(matches!(run(d.list_prefixes("linked", "")), Err(SourceError::Access(_))));
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let (root, _outside) = evidence();
        rustix::fs::mkfifoat(rustix::fs::CWD, root.path().join("b/a/fifo"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        let d = DirSource::new(root.path());
        refused(run(d.get("b", "a/fifo")), "not a regular file");
        assert_eq!(run(d.list("b", "a/", None, &|_| false)).unwrap(), ["a/fifo", "a/real"]);
    }

    #[test]
    fn fifo_sidecar_is_refused_without_blocking() {
        let (root, _outside) = evidence();
        std::fs::remove_file(root.path().join("b/a/real.metadata.json")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, root.path().join("b/a/real.metadata.json"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        refused(run(DirSource::new(root.path()).get("b", "a/real")), "not a regular file");
    }

    #[test]
    fn oversized_sidecar_is_refused_unread() {
        let (root, _outside) = evidence();
        // 1 GiB, sparse: nothing is written, and nothing may be read.
        std::fs::File::create(root.path().join("b/a/real.metadata.json")).unwrap().set_len(1 << 30).unwrap();
        refused(run(DirSource::new(root.path()).get("b", "a/real")), "65536-byte limit");
    }

    #[test]
    fn symlinked_sidecar_is_refused() {
        let (root, outside) = evidence();
        let sidecar = root.path().join("b/a/real.metadata.json");
        std::fs::remove_file(&sidecar).unwrap();
        std::os::unix::fs::symlink(outside.path().join("meta.json"), &sidecar).unwrap();
        refused(run(DirSource::new(root.path()).get("b", "a/real")), "symbolic link");
    }

    /// Asserts that a local open failed with an access error whose message names `what`.
    fn open_refused(result: Result<(std::fs::File, u64), SourceError>, what: &str) {
        match result {
            Err(SourceError::Access(why)) => assert!(why.contains(what), "{why}"),
            other => panic!("expected an access error naming '{what}', got {:?}", other.map(|(_, size)| size)),
        }
    }

    /// The local open used for log files (a folder cache, no sidecar) refuses what `get` refuses.
    #[test]
    fn local_open_refuses_links_and_special_files() {
        let (root, outside) = evidence();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("b/a/link")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("b/out")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, root.path().join("b/a/fifo"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        let d = DirSource::new(root.path());
        let mut folders = Folders::default();
        open_refused(d.open(&mut folders, "b", "a/link"), "symbolic link");
        open_refused(d.open(&mut folders, "b", "out/secret"), "symbolic link");
        open_refused(d.open(&mut folders, "b", "a/fifo"), "not a regular file");
        open_refused(d.open(&mut folders, "b", "../x"), "unsafe path");
        assert_eq!(d.open(&mut folders, "b", "a/none").err(), Some(SourceError::NotFound));
        let (mut file, size) = d.open(&mut folders, "b", "a/real").unwrap();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut body).unwrap();
        assert_eq!((body.as_slice(), size), (&b"real"[..], 4));
        // Many folders: only a few are kept open.
        for n in 0..20 {
            write_object(root.path(), "b", &format!("d{n}/x"), b"x", &BTreeMap::new()).unwrap();
            d.open(&mut folders, "b", &format!("d{n}/x")).unwrap();
        }
        assert!(folders.open.len() <= Folders::KEPT);
    }

    /// A listing holds its names end to end: each is found whole, never a neighbour's prefix or
    /// a run into the next.
    #[test]
    fn a_listing_finds_each_name_whole() {
        let names = ["ab", "a", "b", "abc", "ba"];
        let mut listing = Listing::default();
        for n in names {
            listing.push(n, if n == "abc" { FileType::Directory } else { FileType::RegularFile }).unwrap();
        }
        let listing = listing.sorted();
        assert_eq!(listing.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["a", "ab", "abc", "b", "ba"]);
        for name in ["a", "ab", "b", "ba"] {
            assert!(listing.is_regular_file(name), "{name}");
        }
        for name in ["abc", "", "aba", "bab", "c", "abab"] {
            assert!(!listing.is_regular_file(name), "{name}");
        }
    }

    /// Once a folder is open, a key in it has only its file name checked: an unsafe name is still
    /// refused, and a key whose folder merely looks like the open one gets the full check.
    #[test]
    fn keys_in_an_open_folder_are_still_checked() {
        let (root, _outside) = evidence();
        write_object(root.path(), "b", "a/a/real", b"x", &BTreeMap::new()).unwrap();
        let d = DirSource::new(root.path());
        let mut folders = Folders::default();
        d.open(&mut folders, "b", "a/real").unwrap();
        for bad in ["a/", "a/.", "a/..", "a/x\\y", "a/x\0", "a//real", "a/./real", "a/../a/real", "/a/real", "a/real/"] {
            open_refused(d.open(&mut folders, "b", bad), "unsafe path");
        }
        open_refused(d.open(&mut folders, "", "b/a/real"), "unsafe path");
        open_refused(d.open(&mut folders, "b/", "a/real"), "unsafe path");
        open_refused(d.open(&mut folders, "b/.", "a/real"), "unsafe path");
        // The same folder by another split of its path is the same folder; a longer path is not.
        assert_eq!(d.open(&mut folders, "b/a", "real").unwrap().1, 4);
        assert_eq!(d.open(&mut folders, "b", "a/a/real").unwrap().1, 1);
        let a = folders.open.iter().find(|f| f.rel == "b/a").unwrap();
        assert!(a.is("b", "a") && a.is("b/a", "") && !a.is("b", "") && !a.is("b", "a/a") && !a.is("", "b/a") && !a.is("b/", "a"));
    }

    /// A name its folder's listing showed as a regular file is opened without a look of its own;
    /// what changed since the listing is still refused, and what appeared since is still looked at.
    #[test]
    fn files_changed_after_the_folder_was_listed_are_still_refused() {
        let (root, outside) = evidence();
        for name in ["a/swapped-fifo", "a/swapped-link", "a/gone"] {
            write_object(root.path(), "b", name, b"x", &BTreeMap::new()).unwrap();
        }
        let d = DirSource::new(root.path());
        let mut folders = Folders::default();
        d.open(&mut folders, "b", "a/real").unwrap();
        let listed = d.listed.0.lock().unwrap()[0].1.get().cloned().unwrap().unwrap().unwrap();
        assert!(listed.is_regular_file("swapped-fifo"), "the folder was listed on first use");
        let a = root.path().join("b/a");
        std::fs::remove_file(a.join("swapped-fifo")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, a.join("swapped-fifo"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        std::fs::remove_file(a.join("swapped-link")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), a.join("swapped-link")).unwrap();
        std::fs::remove_file(a.join("gone")).unwrap();
        rustix::fs::mkfifoat(rustix::fs::CWD, a.join("new-fifo"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        std::fs::write(a.join("new"), b"new").unwrap();
        open_refused(d.open(&mut folders, "b", "a/swapped-fifo"), "not a regular file but a FIFO");
        open_refused(d.open(&mut folders, "b", "a/swapped-link"), "changed while being opened");
        open_refused(d.open(&mut folders, "b", "a/new-fifo"), "not a regular file but a FIFO");
        assert_eq!(d.open(&mut folders, "b", "a/gone").err(), Some(SourceError::NotFound));
        assert_eq!(d.open(&mut folders, "b", "a/new").unwrap().1, 3);
        // A folder too large to remember: every name is looked at as it is opened.
        for n in 0..=Listed::MAX {
            write_object(root.path(), "b", &format!("big/{n}"), b"x", &BTreeMap::new()).unwrap();
        }
        rustix::fs::mkfifoat(rustix::fs::CWD, root.path().join("b/big/fifo"), rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR).unwrap();
        assert_eq!(d.open(&mut folders, "b", "big/3").unwrap().1, 1);
        assert!(folders.open.iter().any(|f| f.rel == "b/big" && matches!(f.listing, Some(None))), "too large to keep");
        assert!(d.listed.0.lock().unwrap().iter().any(|(p, once)| p == "b/big" && matches!(once.get(), Some(Ok(None)))));
        open_refused(d.open(&mut folders, "b", "big/fifo"), "not a regular file but a FIFO");
        // The walk lists such a folder whole all the same.
        assert_eq!(run(d.list("b", "big/", None, &|_| false)).unwrap().len(), Listed::MAX + 2);
    }

    /// The listing walk and the opens share a folder's listing: it is read once.
    #[test]
    fn a_folder_listed_by_the_walk_is_not_listed_again_to_open_its_files() {
        let (root, _outside) = evidence();
        let d = DirSource::new(root.path());
        let keys = run(d.list("b", "a/", None, &|_| false)).unwrap();
        assert!(keys.contains(&"a/real".to_string()), "{keys:?}");
        let walked = d.listed.0.lock().unwrap().iter().find(|(p, _)| p == "b/a").and_then(|(_, l)| l.get().cloned()).expect("the walk keeps its listing");
        let walked = walked.unwrap().unwrap();
        let mut folders = Folders::default();
        d.open(&mut folders, "b", "a/real").unwrap();
        let opened = folders.open.iter().find(|f| f.rel == "b/a").and_then(|f| f.listing.clone().flatten()).expect("the open looked at a listing");
        assert!(Arc::ptr_eq(&walked, &opened));
    }

    /// Folders wholly before `start_after` are skipped, and the listing is the same as if they
    /// had been read: S3's `StartAfter` order.
    #[test]
    fn listing_after_a_key_skips_earlier_folders_only() {
        let root = tempfile::tempdir().unwrap();
        for key in ["d/2026/01/31/x", "d/2026/02/01/a", "d/2026/02/01/b", "d/2026/02/1x", "d/2026/03/01/c", "d/2026/02/01-x"] {
            write_object(root.path(), "b", key, b"x", &BTreeMap::new()).unwrap();
        }
        let d = DirSource::new(root.path());
        let listed = run(d.list("b", "d/", Some("d/2026/02/01/a"), &|_| false)).unwrap();
        assert_eq!(listed, ["d/2026/02/01/b", "d/2026/02/1x", "d/2026/03/01/c"]);
        let everything = run(d.list("b", "d/", None, &|_| false)).unwrap();
        let after: Vec<_> = everything.iter().filter(|k| k.as_str() > "d/2026/02/01/a").cloned().collect();
        assert_eq!(listed, after);
    }

    #[test]
    fn regular_files_still_read_with_their_metadata() {
        let (root, _outside) = evidence();
        let object = run(DirSource::new(root.path()).get("b", "a/real")).unwrap();
        assert_eq!(object.metadata["signature"], "00");
        let Body::File(mut file) = object.body else { panic!("a local object is a file") };
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut body).unwrap();
        assert_eq!(body, b"real");
        assert_eq!(run(DirSource::new(root.path()).get("b", "a/none")).err(), Some(SourceError::NotFound));
    }
}
