"""ltmm.core.split_manifest: the shipped manifest against the configs and datasets, the digest machinery, every
problem a check reports (on a small manifest of the same format, on synthetic data roots) and the datasets refusing a
split with the manifest's message."""
import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest

from ltmm.core import split_manifest as sm

from ..helpers import REPO

TOY_TRAIN = ['img/a/0.jpg 0', 'img/a/1.jpg 0', 'img/a/2.jpg 0', 'img/b/0.jpg 1', 'img/b/1.jpg 1', 'img/c/0.jpg 2']
TOY_VAL = ['img/a/5.jpg 0', 'img/a/6.jpg 0', 'img/b/5.jpg 1', 'img/b/6.jpg 1', 'img/c/5.jpg 2', 'img/c/6.jpg 2']
TOY_IDS = ['0007', '12', '3']  # the ids of TOY_MULTI, zero-padded and out of order as a published list may be
TOY_MULTI = ['photos/000000000003.jpg 0 1', 'photos/000000000007.jpg 1', 'photos/000000000012.jpg 2 0']


def text(lines: List[str]) -> bytes:
    return ''.join(f'{line}\n' for line in lines).encode()


def toy_manifest() -> Dict[str, Any]:
    """A manifest of the shipped format with small counts: a long-tailed train list, a balanced val list with a
    published sha256, a multi-label list with the published ids and the published id list (git blob only)."""
    return {'format': 'ltmm-split-manifest/1', 'benchmarks': {'toy_lt': {
        'name': 'Toy-LT', 'root': 'toy', 'classes': 3, 'prepare': 'make the toy data',
        'files': {
            'train': {'path': 'lists/train.txt', 'format': 'label_list', 'lines': 6, 'classes': 3},
            'val': {'path': 'lists/val.txt', 'format': 'label_list', 'lines': 6, 'classes': 3, 'per_class': 2,
                    'published': [{'sha256': sm.sha256_bytes(text(TOY_VAL)), 'source': 'https://example.org/val'}],
                    'other_splits': [{'sha256': sm.sha256_bytes(text(TOY_VAL[::-1])), 'source': 'https://x.org/v',
                                      'note': 'a reversed val list'}]},
            'multi': {'path': 'lists/multi.txt', 'format': 'multilabel_list', 'lines': 3, 'classes': 3,
                      'ids_sha256': sm.ids_sha256(TOY_IDS), 'ids_source': 'https://example.org/ids'},
            'img_id': {'path': 'lists/img_id.txt', 'format': 'id_list', 'lines': 3,
                       'ids_sha256': sm.ids_sha256(TOY_IDS), 'ids_source': 'https://example.org/ids',
                       'published': [{'git_blob': sm.git_blob_id(text(TOY_IDS)), 'source': 'https://example.org/ids'}]},
        }}}}


def make_toy(data_root: Path, images: bool = True) -> Path:
    """The toy benchmark under ``data_root/toy``: its lists and (optionally) every image they name."""
    root = data_root / 'toy'
    (root / 'lists').mkdir(parents=True)
    for name, lines in (('train', TOY_TRAIN), ('val', TOY_VAL), ('multi', TOY_MULTI), ('img_id', TOY_IDS)):
        (root / 'lists' / f'{name}.txt').write_bytes(text(lines))
    if images:
        for line in TOY_TRAIN + TOY_VAL + TOY_MULTI:
            path = root / line.split()[0]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b'')
    return root


def kinds(report: sm.BenchmarkReport) -> List[str]:
    return [p.kind for p in report.problems]


# -------------------------------------------------------------------------------------------- the shipped manifest
def test_shipped_manifest_matches_the_configs():
    from mmengine.config import Config

    manifest = sm.load_manifest()
    assert manifest['format'] == 'ltmm-split-manifest/1'
    for key, entry in manifest['benchmarks'].items():
        cfg = Config.fromfile(str(REPO / entry['config']))
        assert key == Path(entry['config']).stem and cfg.data_root == f'data/{entry["root"]}/'
        assert cfg.num_classes == entry['classes']
        paths = {spec['path'] for spec in entry['files'].values()}
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            assert cfg[loader].dataset.ann_file in paths, (key, loader)
        for spec in entry['files'].values():
            assert ('lines' in spec) != ('images' in spec), 'a text file has lines, a json images'
            for copy_ in spec.get('published', []) + spec.get('other_splits', []):
                assert copy_['source'].startswith('https://github.com/') and ('sha256' in copy_ or 'git_blob' in copy_)


def test_shipped_manifest_agrees_with_the_dataset_size_checks():
    pytest.importorskip('mmpretrain')
    from ltmm.cls.datasets import ImageNetLTDataset, INat2018Dataset, PlacesLTDataset

    for key, dataset in (('imagenet_lt', ImageNetLTDataset), ('places_lt', PlacesLTDataset),
                         ('inat18', INat2018Dataset)):
        files = sm.benchmark_entry(key)['files']
        assert {s: f.get('lines', f.get('images')) for s, f in files.items()} == dataset.split_sizes
        assert {s: f['per_class'] for s, f in files.items() if 'per_class' in f} == dataset.per_class


def test_published_db_loss_id_lists():
    """The DB-loss repository's id lists: the published sha256 of the files, and the digest of their ids."""
    voc, coco = (sm.benchmark_entry(k)['files'] for k in ('voc_lt', 'coco_mlt'))
    assert voc['img_id']['published'][0]['sha256'] == \
        '6e49185d5421236718f7393e952f5790e5c0cfeb1694892b1b971f59725d5ebc'
    assert coco['img_id']['published'][0]['sha256'] == \
        'f31e853d2c7b69512c62b65ff1db067a49b3ab86a62f685c7da86b7c3dd04768'
    assert voc['img_id']['lines'] == voc['train']['lines'] == 1142
    assert coco['img_id']['lines'] == coco['train']['lines'] == 1909
    assert (voc['test']['lines'], coco['test']['lines']) == (4952, 5000)
    for files in (voc, coco):
        assert files['train']['ids_sha256'] == files['img_id']['ids_sha256']
        assert 'wutong16/DistributionBalancedLoss' in files['img_id']['published'][0]['source']


# ---------------------------------------------------------------------------------------------------------- digests
def test_digest_machinery():
    assert sm.sha256_bytes(b'abc') == 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    assert sm.git_blob_id(b'hello\n') == 'ce013625030ba8dba906f756967f9e9ca394464a'  # git hash-object of 'hello\n'
    assert sm.image_id('train2017/000000000139.jpg') == '139' and sm.image_id('000000000139\n') == '139'
    assert sm.image_id('VOC2012/JPEGImages/2008_000008.jpg') == '2008_000008'
    # the ids of an image list and of an id list agree, whatever the order, zero padding and path layout
    assert sm.ids_sha256(TOY_IDS) == sm.ids_sha256([line.split()[0] for line in TOY_MULTI[::-1]])
    assert sm.ids_sha256(TOY_IDS) == hashlib.sha256(b'12\n3\n7\n').hexdigest()
    assert sm.ids_sha256(TOY_IDS) != sm.ids_sha256(TOY_IDS[:2])


@pytest.mark.parametrize('key', ['voc_lt', 'coco_mlt'])
def test_published_checksum_matched_by_a_file_of_that_content(tmp_path, key):
    """A file whose bytes have the published digest is the published copy: shown on a manifest whose published
    digest is that of a stand-in content (the real id lists are not shipped), by sha256 and by git blob."""
    manifest = copy.deepcopy(sm.load_manifest())
    spec = manifest['benchmarks'][key]['files']['img_id']
    ids = [f'2008_{i:06d}' for i in range(spec['lines'])]
    data = text(ids)
    spec['ids_sha256'] = sm.ids_sha256(ids)
    spec['published'] = [{'sha256': sm.sha256_bytes(data), 'source': 'https://github.com/o/r/blob/c/id.txt'}]
    report = sm.check_file('img_id.txt', 'X', 'img_id', spec, data)
    assert not report.problems and 'the published copy https://github.com/o/r/blob/c/id.txt' in report.matches
    spec['published'] = [{'git_blob': sm.git_blob_id(data), 'source': 'https://github.com/o/r/blob/c/id.txt'}]
    assert 'the published copy https://github.com/o/r/blob/c/id.txt' in \
        sm.check_file('img_id.txt', 'X', 'img_id', spec, data).matches
    sorted_copy = text(sorted(ids, reverse=True))  # the same ids, as make_multilabel_lt writes them: ids match
    report = sm.check_file('img_id.txt', 'X', 'img_id', spec, sorted_copy)
    assert not report.problems and report.matches == ['the published image ids']


# -------------------------------------------------------------------------------------------- verifying a root
def test_success_path_records_then_matches(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest)
    assert report.problems == [] and report.images_checked == 15
    assert report.record_note == f'digests recorded in {root / sm.RECORD_NAME}'
    val = next(f for f in report.files if f.split == 'val')
    assert val.summary == '6 images, 3 classes' and val.matches == ['the published copy https://example.org/val']
    record = json.loads((root / sm.RECORD_NAME).read_text())
    assert record['format'] == sm.RECORD_FORMAT
    assert record['files']['lists/train.txt']['sha256'] == sm.sha256_bytes(text(TOY_TRAIN))
    again = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest)
    assert again.problems == [] and again.record_note.startswith('digests match the record')
    # the benchmark's own root works as DATA_ROOT too
    assert sm.verify_benchmark(str(root), 'toy_lt', manifest, check_images=False).problems == []


def test_missing_and_short_files(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    (root / 'lists' / 'img_id.txt').unlink()
    (root / 'lists' / 'train.txt').write_bytes(text(TOY_TRAIN[:-1]))
    (root / 'lists' / 'multi.txt').write_bytes(text(TOY_MULTI + ['photos/000000000099.jpg 1']))
    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    messages = {p.kind: p.message for p in report.problems}
    assert sorted(messages) == ['long', 'missing', 'short']
    assert messages['missing'] == f'{root}/lists/img_id.txt: not found (Toy-LT img_id list)'
    assert messages['short'] == f'{root}/lists/train.txt: Toy-LT train has 6 images, found 5'
    assert messages['long'] == f'{root}/lists/multi.txt: Toy-LT multi has 3 images, found 4'
    assert report.record_note == 'not recorded: fix the problems first' and not (root / sm.RECORD_NAME).exists()


def test_wrong_classes_and_per_class_counts(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    (root / 'lists' / 'train.txt').write_bytes(text(TOY_TRAIN[:-1] + ['img/c/0.jpg 1']))  # class 2 missing
    (root / 'lists' / 'val.txt').write_bytes(text(TOY_VAL[:-1] + ['img/c/6.jpg 1']))
    (root / 'lists' / 'multi.txt').write_bytes(text(TOY_MULTI[:-1] + ['photos/000000000012.jpg 3']))
    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    assert [p.message for p in report.problems] == [
        f'{root}/lists/train.txt: Toy-LT train has images of all 3 classes, found none of 1 classes (first: class 2)',
        f'{root}/lists/val.txt: Toy-LT val has 2 images per class, found 3 of class 1',
        f'{root}/lists/multi.txt: Toy-LT multi has labels in [0, 3), found 3']
    assert kinds(report) == ['classes', 'per_class', 'classes']


def test_not_the_published_split(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    (root / 'lists' / 'val.txt').write_bytes(text(TOY_VAL[::-1]))  # a known other split
    (root / 'lists' / 'multi.txt').write_bytes(text(TOY_MULTI[:2] + ['photos/000000000013.jpg 2 0']))
    (root / 'lists' / 'img_id.txt').write_bytes(text(['7', '3', '13']))
    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    assert kinds(report) == ['other_split', 'ids', 'ids']
    assert report.problems[0].message == (f'{root}/lists/val.txt: not the published Toy-LT val list but a reversed '
                                          'val list (https://x.org/v)')
    assert re.match(rf'{root}/lists/multi.txt: holds other images than the published Toy-LT multi split '
                    r'\(ids_sha256 [0-9a-f]{64}, published [0-9a-f]{64}, from https://example.org/ids\)',
                    report.problems[1].message)
    (root / 'lists' / 'val.txt').write_bytes(text(TOY_VAL[1:] + TOY_VAL[:1]))  # the same lines, other bytes
    unpublished = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False).problems[0]
    assert unpublished.kind == 'unpublished'
    assert unpublished.message.startswith(f'{root}/lists/val.txt: differs from every published copy of the Toy-LT '
                                          'val list (sha256 ')


def test_absent_images_counted_and_named(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    for image in ('img/a/1.jpg', 'img/c/5.jpg', 'photos/000000000007.jpg'):
        (root / image).unlink()
    updates = []

    class Bar:
        def __init__(self, total, desc):
            updates.append((total, desc))

        def update(self, n):
            updates.append(n)

        def close(self):
            updates.append('closed')

    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, progress=Bar)
    assert kinds(report) == ['images']
    assert report.problems[0].message == (f'{root}: 3 of the 15 images the Toy-LT lists name are not on disk, e.g. '
                                          'img/a/1.jpg, img/c/5.jpg, photos/000000000007.jpg')
    assert updates[0] == (15, 'images') and sum(updates[1:-1]) == 15 and updates[-1] == 'closed'
    assert not (root / sm.RECORD_NAME).exists()


def test_altered_file_after_recording(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    assert sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False).problems == []
    recorded = json.loads((root / sm.RECORD_NAME).read_text())['files']['lists/train.txt']
    altered = text(TOY_TRAIN[:3] + ['img/b/0.jpg 1', 'img/b/9.jpg 1', 'img/c/0.jpg 2'])  # same size and classes
    (root / 'lists' / 'train.txt').write_bytes(altered)
    report = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    assert kinds(report) == ['changed']
    assert report.problems[0].message == (
        f'{root}/lists/train.txt: changed since it was verified on {recorded["recorded"]} (sha256 '
        f'{recorded["sha256"]} -> {sm.sha256_bytes(altered)}); if the change is wanted, accept it with python '
        f'tools/data/verify_splits.py {root} --benchmark toy_lt --record')
    accepted = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False, record=True)
    assert accepted.problems == [] and accepted.record_note.startswith('digests recorded in')
    assert sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False).problems == []
    (root / sm.RECORD_NAME).write_text('{"format": "something else"}')
    broken = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    assert kinds(broken) == ['unreadable'] and 'not an ltmm split record' in broken.problems[0].message


def test_unreadable_json_and_archive(tmp_path):
    manifest = {'benchmarks': {'toy_json': {'name': 'Toy-json', 'root': 'j', 'classes': 2, 'prepare': '-', 'files': {
        'val': {'path': 'val.json', 'format': 'coco_json', 'images': 4, 'classes': 2, 'per_class': 2,
                'archives': [{'name': 'val.json.tar.gz', 'md5': hashlib.md5(b'tar').hexdigest(), 'source': 'x'}]}}}}}
    root = tmp_path / 'j'
    root.mkdir()
    ann = {'images': [{'id': i, 'file_name': f'im/{i}.jpg'} for i in range(4)],
           'annotations': [{'id': i, 'image_id': i, 'category_id': 10 + i % 2} for i in range(4)],
           'categories': [{'id': 11}, {'id': 10}]}
    (root / 'val.json').write_text(json.dumps(ann))
    (root / 'val.json.tar.gz').write_bytes(b'tar')
    report = sm.verify_benchmark(str(tmp_path), 'toy_json', manifest, check_images=False)
    assert report.problems == [] and report.files[0].matches == ['published archive val.json.tar.gz']
    assert report.files[0].images == [f'im/{i}.jpg' for i in range(4)]
    (root / 'val.json.tar.gz').write_bytes(b'other')
    ann['categories'].append({'id': 12})
    (root / 'val.json').write_text(json.dumps(ann))
    report = sm.verify_benchmark(str(tmp_path), 'toy_json', manifest, check_images=False)
    assert [p.message for p in report.problems] == [
        f'{root}/val.json: Toy-json has 2 categories, found 3',
        f'{root}/val.json.tar.gz: md5 {hashlib.md5(b"other").hexdigest()}, published {hashlib.md5(b"tar").hexdigest()} '
        '(x)']
    del ann['annotations'][0]
    (root / 'val.json').write_text(json.dumps(ann))
    assert sm.verify_benchmark(str(tmp_path), 'toy_json', manifest, check_images=False).problems[0].message == \
        f'{root}/val.json: 1 images have no annotation (first: image 0)'
    (root / 'val.json').write_text('{"images": [')
    broken = sm.verify_benchmark(str(tmp_path), 'toy_json', manifest, check_images=False).problems[0]
    assert broken.kind == 'unreadable' and broken.message.startswith(f'{root}/val.json: not valid json (')


# -------------------------------------------------------------------------------------------- at dataset load
def test_check_split_file_raises_the_tools_message(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    train = root / 'lists' / 'train.txt'
    sm.check_split_file(str(train), 'toy_lt', manifest=manifest)  # found by its path: fine
    train.write_bytes(text(TOY_TRAIN[:-1]))
    tool_message = sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False).problems[0].message
    with pytest.raises(ValueError) as info:
        sm.check_split_file(str(train), 'toy_lt', manifest=manifest, hint='pass verify=False')
    assert str(info.value) == f'{tool_message} (pass verify=False)'
    # a custom list elsewhere is not a published split file unless the caller names the split
    custom = tmp_path / 'mine.txt'
    custom.write_bytes(text(TOY_TRAIN[:-1]))
    sm.check_split_file(str(custom), 'toy_lt', manifest=manifest)
    with pytest.raises(ValueError, match='Toy-LT train has 6 images, found 5'):
        sm.check_split_file(str(custom), 'toy_lt', 'train', manifest=manifest)
    # bytes that match no published copy: a warning at load
    custom.write_bytes(text(TOY_VAL[1:] + TOY_VAL[:1]))
    with pytest.warns(UserWarning, match='mine.txt: differs from every published copy of the Toy-LT val list'):
        sm.check_split_file(str(custom), 'toy_lt', 'val', manifest=manifest)
    with pytest.raises(ValueError, match="unknown benchmark 'nope'; known: toy_lt"):
        sm.check_split_file(str(custom), 'nope', manifest=manifest)


def test_check_split_file_reports_a_change_since_the_record(tmp_path):
    manifest = toy_manifest()
    root = make_toy(tmp_path)
    sm.verify_benchmark(str(tmp_path), 'toy_lt', manifest, check_images=False)
    (root / 'lists' / 'multi.txt').write_bytes(text(TOY_MULTI[::-1]))  # the same ids, other bytes
    with pytest.raises(ValueError, match=r'multi.txt: changed since it was verified on .* accept it with python '
                                         rf'tools/data/verify_splits.py {root} --benchmark toy_lt --record'):
        sm.check_split_file(str(root / 'lists' / 'multi.txt'), 'toy_lt', manifest=manifest)


def _voc_test_list(n: int = 4952) -> bytes:
    return text([f'VOC2007/JPEGImages/{i:06d}.jpg {i % 20}' if i % 9 else f'VOC2007/JPEGImages/{i:06d}.jpg'
                 for i in range(n)])  # every 9th image unlabelled, as a test list may be


def test_datasets_refuse_a_split_with_the_manifest_message(tmp_path):
    pytest.importorskip('mmpretrain')
    from ltmm.multilabel.datasets.multilabel_lt import LTShapesMultiLabelDataset, VOCLTDataset

    voc = tmp_path / 'VOCdevkit'
    (voc / 'longtail2012').mkdir(parents=True)
    (voc / 'longtail2012' / 'train.txt').write_text('VOC2012/JPEGImages/2008_000008.jpg 3\n')
    tool = {Path(sm.benchmark_entry('voc_lt')['files'][f.split]['path']).name: f.problems
            for f in sm.verify_benchmark(str(tmp_path), 'voc_lt', check_images=False).files}
    assert tool['train.txt'][0].message == f'{voc}/longtail2012/train.txt: VOC-LT train has 1,142 images, found 1'
    with pytest.raises(ValueError) as info:
        VOCLTDataset(data_root=str(voc), ann_file='longtail2012/train.txt', pipeline=[])
    assert str(info.value) == f'{tool["train.txt"][0].message} (a custom list loads from another path)'

    # a test list of the published size loads; once recorded, a changed copy is refused
    (voc / 'longtail2012' / 'test.txt').write_bytes(_voc_test_list())
    assert len(VOCLTDataset(data_root=str(voc), ann_file='longtail2012/test.txt', pipeline=[], test_mode=True)) == 4952
    sm.write_record(str(voc), 'voc_lt', {'longtail2012/test.txt': sm.sha256_bytes(_voc_test_list())})
    (voc / 'longtail2012' / 'test.txt').write_bytes(_voc_test_list().replace(b'000001.jpg 1', b'000001.jpg 2'))
    with pytest.raises(ValueError, match=r'test.txt: changed since it was verified on'):
        VOCLTDataset(data_root=str(voc), ann_file='longtail2012/test.txt', pipeline=[], test_mode=True)

    # custom lists elsewhere, and the demo data, are not checked
    (tmp_path / 'mine.txt').write_text('VOC2012/JPEGImages/2008_000008.jpg 3\n')
    assert len(VOCLTDataset(data_root=str(tmp_path), ann_file='mine.txt', pipeline=[])) == 1
    assert LTShapesMultiLabelDataset.manifest_key == ''


def test_places_lt_dataset_refuses_a_changed_file(tmp_path):
    pytest.importorskip('mmpretrain')
    from ltmm.cls.datasets import PlacesLTDataset

    lists = tmp_path / 'places365' / 'Places_LT'
    lists.mkdir(parents=True)
    val = lists / 'Places_LT_val.txt'
    val.write_text(''.join(f'val/c{c}/{i}.jpg {c}\n' for c in range(365) for i in range(20)))
    with pytest.warns(UserWarning, match='differs from every published copy of the Places-LT val list'):
        assert len(PlacesLTDataset(ann_file=str(val), split='val')) == 7300
    sm.write_record(str(tmp_path / 'places365'), 'places_lt', {'Places_LT/Places_LT_val.txt': 'f' * 64})
    with pytest.raises(ValueError, match=r'Places_LT_val.txt: changed since it was verified on .* \(sha256 f{64} -> '
                                         r'[0-9a-f]{64}\).*\(pass verify=False to load a custom list\)'):
        PlacesLTDataset(ann_file=str(val), split='val')
    assert len(PlacesLTDataset(ann_file=str(val), split='val', verify=False)) == 7300
