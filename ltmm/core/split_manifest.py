"""The split manifest: what the published split files of the long-tailed benchmarks hold, and the checks of a user's
copy against it (no framework import).

``split_manifest.json`` (package data, beside this module) describes, per benchmark (ImageNet-LT, Places-LT,
iNaturalist 2018, VOC-LT, COCO-MLT; keyed like the dataset base configs), each file our configs read: its path under
the benchmark's root, its format, its size (``lines`` of a text file, ``images`` of a json), the classes that must
occur, the images per class of a balanced split, and digests where a published one can be sourced (see the json's
``about``). A file is checked for, in this order: its size (short / long), its classes (a missing class, a label out
of range, a per-class count), a known other split of the same name, the image ids of the published split
(``ids_sha256``: order- and layout-free), a byte-identical published copy, and the user's own record.

The user's record: the first verification of a benchmark without any problem (``tools/data/verify_splits.py``)
writes the sha256 of each of its files to ``<benchmark root>/.ltmm_splits.json`` (never into the package: the record
belongs to that copy of the data and moves with it). Later verifications, and the datasets at load, report a file
whose digest differs from the record, with both digests and the date recorded; ``verify_splits.py --record`` accepts
the change. A root that cannot be written to keeps no record (reported, not an error).

Datasets call :func:`check_split_file` at load: any problem raises ``ValueError`` with the same text the tool
prints, except a list that only differs from the published bytes (an edited list, or one in another path layout,
with the published sizes): that is a warning at load and a problem for the tool.
"""
import datetime
import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .class_stats import parse_label_lines

MANIFEST_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'split_manifest.json')
RECORD_NAME = '.ltmm_splits.json'
RECORD_FORMAT = 'ltmm-split-record/1'
# problems a dataset only warns about at load (the tool reports them all)
WARN_AT_LOAD = frozenset({'unpublished'})

Labels = Sequence[Union[int, Sequence[int]]]  # one label, or a list of labels, per image
Progress = Callable[[int, str], Any]  # (total, description) -> an object with update(n) and close(), e.g. tqdm


@dataclass
class Problem:
    """One thing wrong with a benchmark's data.

    Attributes:
        kind: 'missing', 'unreadable', 'short', 'long', 'classes', 'per_class', 'other_split', 'ids', 'unpublished',
            'changed', 'archive' or 'images'.
        message: the full message, naming the file, the expected and the found value.
    """
    kind: str
    message: str


@dataclass
class FileReport:
    """The check of one manifest file.

    Attributes:
        split: its key in the manifest ('train', 'val', 'test', 'img_id').
        path: where it was looked for.
        sha256: the digest of its bytes (None when it is missing).
        summary: what it holds ('1,142 images, 20 classes').
        matches: what it matched (the published ids, a published copy, the user's record).
        problems: what is wrong with it.
        images: the images (or ids) it lists, for the check on disk.
    """
    split: str
    path: str
    sha256: Optional[str] = None
    summary: str = ''
    matches: List[str] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)
    images: List[str] = field(default_factory=list)


@dataclass
class BenchmarkReport:
    """The verification of one benchmark under a data root.

    Attributes:
        key: its manifest key; name: its name; root: the folder checked.
        files: the check of each manifest file.
        problems: every problem: those of the files, of the record and of the images.
        images_checked: how many distinct images the lists name (0 without the image check).
        record_note: what happened to the user's record (written, matched, not written and why).
    """
    key: str
    name: str
    root: str
    files: List[FileReport]
    problems: List[Problem]
    images_checked: int = 0
    record_note: str = ''


# ------------------------------------------------------------------------------------------------------- manifest
@lru_cache(maxsize=None)
def _read_manifest(path: str) -> Dict[str, Any]:
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def load_manifest(path: Optional[str] = None) -> Dict[str, Any]:
    """The manifest (``split_manifest.json`` by default), parsed once per process."""
    return _read_manifest(os.path.abspath(path or MANIFEST_FILE))


def benchmark_entry(benchmark: str, manifest: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The manifest entry of ``benchmark`` (e.g. 'imagenet_lt').

    Raises:
        ValueError: an unknown benchmark, naming the known ones.
    """
    benchmarks = (manifest or load_manifest())['benchmarks']
    if benchmark not in benchmarks:
        raise ValueError(f'split manifest: unknown benchmark {benchmark!r}; known: {", ".join(sorted(benchmarks))}')
    return benchmarks[benchmark]


def split_of_path(path: str, entry: Dict[str, Any]) -> Optional[str]:
    """The split whose manifest path ``path`` ends with (e.g. '.../longtail2012/train.txt' -> 'train'), or None."""
    parts = os.path.normpath(path).split(os.sep)
    for split, spec in entry['files'].items():
        rel = spec['path'].split('/')
        if parts[-len(rel):] == rel:
            return split
    return None


# -------------------------------------------------------------------------------------------------------- digests
def sha256_bytes(data: bytes) -> str:
    """The sha256 hex digest of ``data`` (what ``sha256sum`` prints for a file of these bytes)."""
    return hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> str:
    """The git object id of a file of these bytes (what ``git hash-object FILE`` prints)."""
    return hashlib.sha1(b'blob %d\0' % len(data) + data, usedforsecurity=False).hexdigest()


def image_id(path_or_id: str) -> str:
    """An image's id as the published id lists write it: the file name without extension; digits without leading
    zeros ('train2017/000000000139.jpg' -> '139', 'VOC2012/JPEGImages/2008_000008.jpg' -> '2008_000008')."""
    stem = os.path.splitext(os.path.basename(path_or_id.strip()))[0]
    return str(int(stem)) if stem.isdigit() else stem


def ids_sha256(ids: Iterable[str]) -> str:
    """The manifest's ``ids_sha256`` of image ids or paths: sha256 of the sorted ids (:func:`image_id`), one per line
    with a final newline; independent of the order and of the path layout."""
    return sha256_bytes(''.join(f'{i}\n' for i in sorted(image_id(x) for x in ids)).encode())


def md5_file(path: str, chunk: int = 1 << 20) -> str:
    """The md5 hex digest of a file (what ``md5sum`` prints), read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------- the checks
def count_problems(source: str, name: str, split: str, labels: Labels, num_classes: int,
                   per_class: Optional[int] = None) -> List[Problem]:
    """The class checks of a split: every class occurs, labels lie in ``[0, num_classes)``, and a balanced split
    has ``per_class`` images of each class. ``labels`` holds one label, or a list of labels, per image."""
    flat = np.asarray([x for item in labels for x in (item if isinstance(item, (list, tuple)) else [item])],
                      dtype=np.int64)
    prefix = f'{source}: {name} {split}'
    bad = flat[(flat < 0) | (flat >= num_classes)]
    if len(bad):
        return [Problem('classes', f'{prefix} has labels in [0, {num_classes}), found {int(bad[0])}')]
    counts = np.bincount(flat, minlength=num_classes)
    missing = np.flatnonzero(counts == 0)
    if len(missing):
        return [Problem('classes', f'{prefix} has images of all {num_classes} classes, found none of '
                                   f'{len(missing)} classes (first: class {missing[0]})')]
    if per_class is not None and np.any(counts != per_class):
        c = int(np.flatnonzero(counts != per_class)[0])
        return [Problem('per_class', f'{prefix} has {per_class} images per class, found {counts[c]} of class {c}')]
    return []


def size_problem(source: str, name: str, split: str, expected: int, found: int, unit: str = 'images'
                 ) -> List[Problem]:
    """A 'short' or 'long' problem when ``found`` differs from the published ``expected`` size."""
    if found == expected:
        return []
    return [Problem('short' if found < expected else 'long',
                    f'{source}: {name} {split} has {expected:,} {unit}, found {found:,}')]


def _parse_coco_json(ann: Any, source: str) -> Tuple[List[str], List[int], int]:
    """The images, labels (rank of the category id) and number of categories of a COCO-style classification json."""
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(ann, dict) or key not in ann:
            raise ValueError(f'{source}: a COCO-style json needs "images", "annotations" and "categories"; '
                             f'"{key}" is missing')
    rank = {c['id']: r for r, c in enumerate(sorted(ann['categories'], key=lambda c: c['id']))}
    label_of = {}
    for a in ann['annotations']:
        if a['category_id'] not in rank:
            raise ValueError(f'{source}: annotation {a.get("id")} has unknown category_id {a["category_id"]!r}')
        label_of[a['image_id']] = rank[a['category_id']]
    unlabelled = [img['id'] for img in ann['images'] if img['id'] not in label_of]
    if unlabelled:
        raise ValueError(f'{source}: {len(unlabelled):,} images have no annotation (first: image {unlabelled[0]})')
    return ([img['file_name'] for img in ann['images']], [label_of[img['id']] for img in ann['images']],
            len(rank))


def parse_split(data: bytes, spec: Dict[str, Any], source: str) -> Tuple[List[str], Optional[List[Any]], int]:
    """The images (paths, or the ids of an id list), their labels (None for an id list) and the number of classes
    declared (the categories of a json; 0 for a list) of a split file's bytes.

    Raises:
        ValueError: a line or a json that is not of the file's format, naming the file.
    """
    fmt = spec['format']
    if fmt == 'coco_json':
        try:
            return _parse_coco_json(json.loads(data), source)
        except KeyError as exc:
            raise ValueError(f'{source}: an entry lacks the field {exc}') from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f'{source}: not valid json ({exc})') from exc
    lines = data.decode('utf-8').splitlines()
    if fmt == 'id_list':
        return [line.strip() for line in lines if line.strip()], None, 0
    items = parse_label_lines(lines, source, allow_unlabelled=spec.get('unlabelled', False))
    if fmt == 'label_list':
        for lineno, (path, labels) in enumerate(items, 1):
            if len(labels) != 1:
                raise ValueError(f'{source}: entry {lineno} ({path!r}): expected one label, got {labels}')
        return [path for path, _ in items], [labels[0] for _, labels in items], 0
    return [path for path, _ in items], [labels for _, labels in items], 0


def _published_match(data: bytes, copies: Sequence[Dict[str, str]]) -> Optional[Dict[str, str]]:
    digests: Dict[str, str] = {}
    for copy in copies:
        kind = 'sha256' if 'sha256' in copy else 'git_blob'
        if kind not in digests:
            digests[kind] = sha256_bytes(data) if kind == 'sha256' else git_blob_id(data)
        if digests[kind] == copy[kind]:
            return copy
    return None


def check_file(path: str, name: str, split: str, spec: Dict[str, Any], data: bytes,
               parsed: Optional[Tuple[List[str], Sequence[Any]]] = None, recorded: Optional[Dict[str, str]] = None,
               accept: str = '') -> FileReport:
    """Check a split file's bytes against its manifest entry ``spec`` and the user's ``recorded`` entry.

    Args:
        path: the file, as the messages name it.
        name: the benchmark's name (for the messages).
        split: the split (for the messages).
        spec: the file's manifest entry.
        data: the file's bytes.
        parsed: the images and labels of the file as its caller has already parsed them (a dataset at load, which
            has checked the line format and, for a json, the categories): saves a second parse.
        recorded: the file's entry in the user's record ({'sha256', 'recorded'}), if any.
        accept: the command that accepts a changed file (for the message).
    """
    report = FileReport(split, path, sha256=sha256_bytes(data))
    if parsed is not None:
        report.images, labels = list(parsed[0]), parsed[1]
    else:
        try:
            report.images, labels, num_categories = parse_split(data, spec, path)
        except (ValueError, UnicodeDecodeError) as exc:
            report.problems.append(Problem('unreadable', str(exc) if isinstance(exc, ValueError) else
                                           f'{path}: not a UTF-8 text file ({exc})'))
            return report
        if num_categories and num_categories != spec['classes']:
            report.problems.append(Problem('classes', f'{path}: {name} has {spec["classes"]:,} categories, found '
                                                      f'{num_categories:,}'))
            return report
    unit = 'ids' if spec['format'] == 'id_list' else 'images'
    found = len(report.images) if 'lines' in spec else len(labels)
    report.summary = f'{found:,} {unit}' + (f', {spec["classes"]:,} classes' if 'classes' in spec else '')
    report.problems += size_problem(path, name, split, spec['lines'] if 'lines' in spec else spec['images'], found,
                                    unit)
    if labels is not None and 'classes' in spec and not report.problems:
        report.problems += count_problems(path, name, split, labels, spec['classes'], spec.get('per_class'))
    if report.problems:
        return report
    other = [o for o in spec.get('other_splits', ()) if o['sha256'] == report.sha256]
    if other:
        report.problems.append(Problem('other_split', f'{path}: not the published {name} {split} list but '
                                                      f'{other[0]["note"]} ({other[0]["source"]})'))
        return report
    if 'ids_sha256' in spec:
        digest = ids_sha256(report.images)
        if digest != spec['ids_sha256']:
            report.problems.append(Problem('ids', f'{path}: holds other images than the published {name} {split} '
                                                  f'split (ids_sha256 {digest}, published {spec["ids_sha256"]}, '
                                                  f'from {spec["ids_source"]})'))
            return report
        report.matches.append('the published image ids')
    if spec.get('published'):
        copy = _published_match(data, spec['published'])
        if copy is not None:
            report.matches.append(f'the published copy {copy["source"]}')
        elif 'ids_sha256' not in spec:
            known = '; '.join(f'{c.get("sha256") or "git blob " + c["git_blob"]} ({c["source"]})'
                              for c in spec['published'])
            report.problems.append(Problem('unpublished', f'{path}: differs from every published copy of the '
                                                          f'{name} {split} list (sha256 {report.sha256}; published: '
                                                          f'{known}): an edited list, or one in another path layout'))
    if recorded and recorded['sha256'] != report.sha256:
        report.problems.append(Problem('changed', f'{path}: changed since it was verified on {recorded["recorded"]} '
                                                  f'(sha256 {recorded["sha256"]} -> {report.sha256}); if the '
                                                  f'change is wanted, accept it with {accept or "--record"}'))
    elif recorded:
        report.matches.append(f'the record of {recorded["recorded"]}')
    return report


def accept_command(root: str, benchmark: str) -> str:
    """The command that verifies a benchmark root and records its current digests."""
    return f'python tools/data/verify_splits.py {root} --benchmark {benchmark} --record'


# ------------------------------------------------------------------------------------------------- user record
def record_path(root: str) -> str:
    """Where the user's record of a benchmark root lives."""
    return os.path.join(root, RECORD_NAME)


def read_record(root: str) -> Dict[str, Dict[str, str]]:
    """The recorded files of a benchmark root: {path in the root: {'sha256', 'recorded', 'benchmark'}}; {} if none.

    Raises:
        ValueError: a record that is not one (naming it).
    """
    path = record_path(root)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except ValueError as exc:
        raise ValueError(f'{path}: not valid json ({exc}); remove it to record again') from exc
    if not isinstance(data, dict) or data.get('format') != RECORD_FORMAT:
        raise ValueError(f'{path}: not an ltmm split record (format {RECORD_FORMAT}); remove it to record again')
    return data['files']


def write_record(root: str, benchmark: str, digests: Dict[str, str]) -> str:
    """Record the sha256 of a benchmark's files (path in the root -> digest), merged into the root's record, dated
    now (UTC). Returns the record's path."""
    files = read_record(root)
    now = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    files.update({rel: {'sha256': digest, 'recorded': now, 'benchmark': benchmark} for rel, digest in digests.items()})
    path = record_path(root)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'format': RECORD_FORMAT, 'about': 'sha256 of the split files as first verified by ltmm '
                   '(tools/data/verify_splits.py); a file whose digest differs is reported. --record accepts it.',
                   'files': files}, f, indent=1, sort_keys=True)
    return path


# --------------------------------------------------------------------------------------------- at dataset load
def check_split_file(path: str, benchmark: str, split: Optional[str] = None,
                     parsed: Optional[Tuple[List[str], Sequence[Any]]] = None,
                     manifest: Optional[Dict[str, Any]] = None,
                     hint: str = '') -> None:
    """Check a dataset's split file against the manifest and the user's record; a dataset calls it at load.

    Args:
        path: the split file.
        benchmark: the manifest key (e.g. 'imagenet_lt').
        split: the split it must be; None: the split whose manifest path ``path`` ends with (a file that ends with
            none of them is not a published split file and is not checked).
        parsed: the images and labels of the file as the dataset has parsed them (saves a second parse).
        manifest: the manifest (default: the package's).
        hint: appended to the messages in parentheses (how to load a custom list instead).

    Raises:
        ValueError: the problems of the file, one a line, as ``tools/data/verify_splits.py`` prints them. A list
            that only differs from the published bytes (``WARN_AT_LOAD``) is a ``UserWarning`` instead.
    """
    entry = benchmark_entry(benchmark, manifest)
    at_manifest_path = split_of_path(path, entry)
    split = split or at_manifest_path
    if split is None:
        return
    spec = entry['files'][split]
    with open(path, 'rb') as f:
        data = f.read()
    recorded, root = None, ''
    if at_manifest_path == split:  # where the manifest puts it: the record of its benchmark root applies
        root = os.path.normpath(path)[:-len(os.path.normpath(spec['path']))].rstrip(os.sep) or '.'
        recorded = read_record(root).get(spec['path'])
    report = check_file(path, entry['name'], split, spec, data, parsed, recorded,
                        accept_command(root, benchmark))
    suffix = f' ({hint})' if hint else ''
    errors = [p.message + suffix for p in report.problems if p.kind not in WARN_AT_LOAD]
    if errors:
        raise ValueError('\n'.join(errors))
    for problem in report.problems:
        warnings.warn(problem.message + suffix, UserWarning, stacklevel=2)


# --------------------------------------------------------------------------------------------- a whole benchmark
def benchmark_root(data_root: str, entry: Dict[str, Any]) -> str:
    """The benchmark's root: ``<data_root>/<root>``, or ``data_root`` itself when it holds the benchmark's files."""
    joined = os.path.join(data_root, entry['root'])
    if not os.path.isdir(joined) and any(os.path.exists(os.path.join(data_root, spec['path']))
                                         for spec in entry['files'].values()):
        return data_root
    return joined


def absent_images(root: str, images: Sequence[str], progress: Optional[Progress] = None) -> List[str]:
    """The images (paths relative to ``root``) that are not on disk, in the given order. Lists each folder once
    rather than testing every file (fast on network file systems)."""
    by_dir: Dict[str, List[str]] = {}
    for image in images:
        by_dir.setdefault(os.path.dirname(image), []).append(image)
    bar = progress(len(images), 'images') if progress else None
    absent = set()
    for folder, members in by_dir.items():
        try:
            present = set(os.listdir(os.path.join(root, folder)))
        except (FileNotFoundError, NotADirectoryError):
            present = set()
        absent.update(m for m in members if os.path.basename(m) not in present)
        if bar is not None:
            bar.update(len(members))
    if bar is not None:
        bar.close()
    return [image for image in images if image in absent]


def verify_benchmark(data_root: str, benchmark: str, manifest: Optional[Dict[str, Any]] = None,
                     check_images: bool = True, record: bool = False, progress: Optional[Progress] = None
                     ) -> BenchmarkReport:
    """Verify a benchmark's files under ``data_root`` against the manifest and the user's record, and write the
    record on the first verification without problems.

    Args:
        data_root: the folder holding the benchmarks' roots (the configs' ``data/``), or the benchmark's root.
        benchmark: the manifest key.
        manifest: the manifest (default: the package's).
        check_images: check that every image the lists name is on disk.
        record: accept changed files: rewrite the record when no other problem is found.
        progress: a progress-bar factory for the image check, e.g. ``lambda n, desc: tqdm(total=n, desc=desc)``.
    """
    entry = benchmark_entry(benchmark, manifest)
    root = benchmark_root(data_root, entry)
    report = BenchmarkReport(benchmark, entry['name'], root, [], [])
    try:
        recorded = read_record(root)
    except ValueError as exc:
        report.problems.append(Problem('unreadable', str(exc)))
        recorded = {}
    for split, spec in entry['files'].items():
        path = os.path.join(root, spec['path'])
        if not os.path.isfile(path):
            file_report = FileReport(split, path)
            file_report.problems.append(Problem('missing', f'{path}: not found ({entry["name"]} {split} list)'))
        else:
            with open(path, 'rb') as f:
                data = f.read()
            file_report = check_file(path, entry['name'], split, spec, data, recorded=recorded.get(spec['path']),
                                     accept=accept_command(root, benchmark))
        for archive in spec.get('archives', ()):
            archive_path = os.path.join(root, archive['name'])
            if os.path.isfile(archive_path):
                digest = md5_file(archive_path)
                if digest == archive['md5']:
                    file_report.matches.append(f'published archive {archive["name"]}')
                else:
                    file_report.problems.append(Problem('archive', f'{archive_path}: md5 {digest}, published '
                                                                   f'{archive["md5"]} ({archive["source"]})'))
        report.files.append(file_report)
    if record:
        for file_report in report.files:
            file_report.problems = [p for p in file_report.problems if p.kind != 'changed']
    report.problems += [p for f in report.files for p in f.problems]
    if check_images:
        listed = list(dict.fromkeys(i for f in report.files if entry['files'][f.split]['format'] != 'id_list'
                                    for i in f.images))
        report.images_checked = len(listed)
        absent = absent_images(root, listed, progress)
        if absent:
            examples = ', '.join(absent[:5])
            report.problems.append(Problem('images', f'{root}: {len(absent):,} of the {len(listed):,} images the '
                                                     f'{entry["name"]} lists name are not on disk, e.g. {examples}'))
    if report.problems:
        report.record_note = 'not recorded: fix the problems first'
        return report
    digests = {entry['files'][f.split]['path']: f.sha256 for f in report.files}
    new = {rel: d for rel, d in digests.items() if record or rel not in recorded}
    if not new:
        report.record_note = f'digests match the record {record_path(root)}'
        return report
    try:
        report.record_note = f'digests recorded in {write_record(root, benchmark, new)}'
    except OSError as exc:
        report.record_note = f'digests not recorded: {exc}'
    return report
