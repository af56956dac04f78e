"""Long-tailed classification datasets: ImageNet-LT / Places-LT lists and iNaturalist-2018 json verified against the
published sizes, CIFAR-LT generated from CIFAR python archives (written here in the archive's pickle format), and
the dataset base configs' counts."""
import json
import pickle
import re
from pathlib import Path
from typing import List, Sequence

import numpy as np
import pytest
from mmengine.config import Config

import ltmm.cls  # noqa: F401  (registers the datasets)
from ltmm.cls.datasets import CIFARLTDataset, ImageNetLTDataset, INat2018Dataset, PlacesLTDataset
from ltmm.cls.datasets.cifar_lt import long_tail_indices
from ltmm.core.class_stats import load_class_stats

from ..helpers import REPO


def _write_list(path: Path, counts: Sequence[int], prefix: str = 'train') -> Path:
    with open(path, 'w') as f:
        for label, n in enumerate(counts):
            f.writelines(f'{prefix}/c{label}/img {i}.JPEG {label}\n' for i in range(n))
    return path


def _imagenet_lt_train_counts() -> List[int]:
    counts = [115] * 1000
    for i in range(846):  # 115 * 1000 + 846 = 115,846, head classes first
        counts[i % 100] += 1
    return counts


# ---------------------------------------------------------------------------------------------- ImageNet-LT / Places-LT
def test_imagenet_lt_published_sizes_load(tmp_path):
    train = _write_list(tmp_path / 'ImageNet_LT_train.txt', _imagenet_lt_train_counts())
    ds = ImageNetLTDataset(ann_file=str(train), split='train', data_root=str(tmp_path))
    assert len(ds) == 115846 and len(ds.metainfo['classes']) == 1000
    assert ds.metainfo['classes'][0].startswith('tench')  # n01440764 -> 0
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'train/c0/img 0.JPEG')  # spaces in paths are kept
    assert ds.get_cat_ids(len(ds) - 1) == [999]
    stats = load_class_stats(str(train), num_classes=1000)
    assert stats.image_count.tolist() == _imagenet_lt_train_counts()

    val = _write_list(tmp_path / 'ImageNet_LT_val.txt', [20] * 1000)
    assert len(ImageNetLTDataset(ann_file=str(val), split='val', data_root=str(tmp_path))) == 20000


@pytest.mark.slow
def test_imagenet_lt_wrong_sizes_name_file_and_counts(tmp_path):
    counts = _imagenet_lt_train_counts()
    counts[5] -= 1  # a truncated download
    train = _write_list(tmp_path / 'ImageNet_LT_train.txt', counts)
    with pytest.raises(ValueError, match=r'ImageNet_LT_train\.txt: ImageNet-LT train has 115,846 images, found '
                                         r'115,845 \(pass verify=False'):
        ImageNetLTDataset(ann_file=str(train), split='train')
    assert len(ImageNetLTDataset(ann_file=str(train), split='train', verify=False)) == 115845

    counts = _imagenet_lt_train_counts()
    counts[0], counts[7] = counts[0] + counts[7], 0  # right size, a class missing
    with pytest.raises(ValueError, match='found none of 1 classes'):
        ImageNetLTDataset(ann_file=str(_write_list(tmp_path / 'missing.txt', counts)), split='train')

    unbalanced = [20] * 1000
    unbalanced[3], unbalanced[4] = 19, 21
    with pytest.raises(ValueError, match='val has 20 images per class, found 19 of class 3'):
        ImageNetLTDataset(ann_file=str(_write_list(tmp_path / 'val.txt', unbalanced)), split='val')
    # the train list given as the test split
    with pytest.raises(ValueError, match='test has 50,000 images, found 115,846'):
        ImageNetLTDataset(ann_file=str(_write_list(tmp_path / 't.txt', _imagenet_lt_train_counts())), split='test')


def test_list_dataset_bad_lines_and_arguments(tmp_path):
    bad = tmp_path / 'bad.txt'
    bad.write_text('train/a.JPEG 0\ntrain/b.JPEG\n')
    with pytest.raises(ValueError, match=r'bad\.txt:2: expected "<path> <label> \[<label> \.\.\.\]"'):
        ImageNetLTDataset(ann_file=str(bad), split='train', verify=False)
    bad.write_text('train/a.JPEG 1000\n')
    with pytest.raises(ValueError, match=r'label in \[0, 1000\)'):
        ImageNetLTDataset(ann_file=str(bad), split='train', verify=False)
    with pytest.raises(ValueError, match="split must be one of"):
        ImageNetLTDataset(ann_file=str(bad), split='training')
    with pytest.raises(FileNotFoundError):
        ImageNetLTDataset(ann_file=str(tmp_path / 'absent.txt'), split='train')


def test_places_lt_sizes(tmp_path):
    test = _write_list(tmp_path / 'Places_LT_test.txt', [100] * 365, prefix='val')
    ds = PlacesLTDataset(ann_file=str(test), split='test')
    assert len(ds) == 36500 and len(ds.metainfo['classes']) == 365
    with pytest.raises(ValueError, match='Places-LT val has 7,300 images, found 36,500'):
        PlacesLTDataset(ann_file=str(test), split='val')


# ------------------------------------------------------------------------------------------------------ iNaturalist
def _inat_json(path: Path, labels_per_class: Sequence[int], category_ids: Sequence[int]) -> Path:
    images, annotations = [], []
    for cat_id, n in zip(category_ids, labels_per_class):
        for _ in range(n):
            i = len(images)
            images.append({'id': 1000 + i, 'file_name': f'train_val2018/Plantae/{cat_id}/{i}.jpg', 'width': 8,
                           'height': 8})
            annotations.append({'id': 5000 + i, 'image_id': 1000 + i, 'category_id': cat_id})
    categories = [{'id': c, 'name': f'species {c}', 'supercategory': 'Plantae'} for c in category_ids]
    path.write_text(json.dumps({'images': images, 'annotations': annotations, 'categories': categories}))
    return path


def test_inat2018_labels_follow_sorted_category_ids(tmp_path):
    # categories listed out of order, with gaps: label = rank of the id, as ltmm.core.class_stats counts them
    ann = _inat_json(tmp_path / 'train.json', [3, 1, 2], category_ids=[20, 5, 9])
    ds = INat2018Dataset(ann_file='train.json', split='train', verify=False, data_root=str(tmp_path))
    assert ds.metainfo['classes'] == ('species 5', 'species 9', 'species 20')
    labels = [ds.get_cat_ids(i)[0] for i in range(len(ds))]
    assert labels == [2, 2, 2, 0, 1, 1]
    assert ds.get_data_info(0)['img_path'] == str(tmp_path / 'train_val2018/Plantae/20/0.jpg')
    assert np.bincount(labels).tolist() == load_class_stats(str(ann)).image_count.tolist() == [1, 2, 3]


def test_inat2018_published_val_size(tmp_path):
    ann = _inat_json(tmp_path / 'val2018.json', [3] * 8142, category_ids=range(8142))
    ds = INat2018Dataset(ann_file=str(ann), split='val')
    assert len(ds) == 24426 and len(ds.metainfo['classes']) == 8142
    with pytest.raises(ValueError, match=r'val2018\.json: iNaturalist 2018 train has 437,513 images, found 24,426'):
        INat2018Dataset(ann_file=str(ann), split='train')
    small = _inat_json(tmp_path / 'small.json', [3] * 10, category_ids=range(10))
    with pytest.raises(ValueError, match='has 8,142 categories, found 10'):
        INat2018Dataset(ann_file=str(small), split='val')


def test_inat2018_bad_annotations(tmp_path):
    path = _inat_json(tmp_path / 'a.json', [2], category_ids=[0])
    data = json.loads(path.read_text())
    data['annotations'].append({'id': 9, 'image_id': 1000, 'category_id': 0})
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='image 1000 has several annotations'):
        INat2018Dataset(ann_file=str(path), split='train', verify=False)
    data['annotations'] = data['annotations'][1:2]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r'image 1000 \(train_val2018/Plantae/0/0.jpg\) has no annotation'):
        INat2018Dataset(ann_file=str(path), split='train', verify=False)
    data['annotations'][0]['category_id'] = 7
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match='unknown category_id 7'):
        INat2018Dataset(ann_file=str(path), split='train', verify=False)
    path.write_text(json.dumps({'images': []}))
    with pytest.raises(ValueError, match='"annotations" is missing'):
        INat2018Dataset(ann_file=str(path), split='train', verify=False)


# ---------------------------------------------------------------------------------------------------------- CIFAR-LT
def _pixels(labels: np.ndarray, offset: int) -> np.ndarray:
    """(N, 3072) CIFAR rows whose first red, green and blue values encode the row: R = row % 256, G = row // 256,
    B = offset, so a test can tell which archive row an image came from."""
    rows = np.zeros((len(labels), 3072), dtype=np.uint8)
    idx = np.arange(len(labels))
    rows[:, 0], rows[:, 1024], rows[:, 2048] = idx % 256, idx // 256, offset
    return rows


def _write_cifar(root: Path, num_classes: int, per_class: int, test_per_class: int = 2) -> np.ndarray:
    """A CIFAR python archive (official layout and fields) with labels in a shuffled order; returns the train
    labels."""
    rng = np.random.RandomState(123)
    train = rng.permutation(np.repeat(np.arange(num_classes), per_class))
    test = np.repeat(np.arange(num_classes), test_per_class)
    names = [f'class{c}' for c in range(num_classes)]
    if num_classes == 100:
        folder = root / 'cifar-100-python'
        batches = {'train': (train, 0), 'test': (test, 9)}
        meta, key, names_key = 'meta', 'fine_labels', 'fine_label_names'
    else:
        folder = root / 'cifar-10-batches-py'
        parts = np.array_split(np.arange(len(train)), 5)
        batches = {f'data_batch_{i + 1}': (train[p], i) for i, p in enumerate(parts)}
        batches['test_batch'] = (test, 9)
        meta, key, names_key = 'batches.meta', 'labels', 'label_names'
    folder.mkdir(parents=True)
    for name, (labels, offset) in batches.items():
        with open(folder / name, 'wb') as f:
            pickle.dump({'data': _pixels(labels, offset), key: labels.tolist(), 'batch_label': name}, f)
    with open(folder / meta, 'wb') as f:
        pickle.dump({names_key: names}, f)
    return train


def _official_selection(labels: np.ndarray, num_classes: int, imbalance_factor: float) -> np.ndarray:
    """kaidic/LDAM-DRW imbalance_cifar.py, written out: global np.random.seed(0), one np.random.shuffle per class."""
    img_max = len(labels) / num_classes
    counts = [int(img_max * (1.0 / imbalance_factor) ** (i / (num_classes - 1.0))) for i in range(num_classes)]
    np.random.seed(0)
    keep = []
    for the_class, n in zip(np.unique(labels), counts):
        idx = np.where(labels == the_class)[0]
        np.random.shuffle(idx)
        keep.append(idx[:n])
    return np.concatenate(keep)


@pytest.mark.parametrize('num_classes, per_class, total', [(100, 500, 10847), (10, 5000, 12406)])
def test_cifar_lt_published_totals(num_classes, per_class, total):
    labels = np.random.RandomState(1).permutation(np.repeat(np.arange(num_classes), per_class))
    keep = long_tail_indices(labels, num_classes, 100)
    assert len(keep) == total
    np.testing.assert_array_equal(keep, _official_selection(labels, num_classes, 100))
    counts = np.bincount(labels[keep])
    assert counts[0] == per_class and counts[-1] == per_class // 100
    assert np.all(np.diff(counts) <= 0)


@pytest.mark.parametrize('num_classes', [10, 100])
def test_cifar_lt_dataset_from_archive(tmp_path, num_classes):
    per_class = 60 if num_classes == 10 else 20
    train_labels = _write_cifar(tmp_path, num_classes, per_class)
    ds = CIFARLTDataset(data_root=str(tmp_path), num_classes=num_classes, split='train', imbalance_factor=10)
    rows = _official_selection(train_labels, num_classes, 10)
    assert len(ds) == len(rows)
    assert ds.metainfo['classes'][:2] == ('class0', 'class1')
    for i in (0, len(ds) // 2, len(ds) - 1):
        info = ds.get_data_info(i)
        img = info['img']
        assert img.shape == (32, 32, 3) and img.dtype == np.uint8
        row = int(img[0, 0, 0]) + 256 * int(img[0, 0, 1])  # the row encoded by _pixels, read back as HWC RGB
        if num_classes == 10:  # 5 batches: rows restart at 0 in each; the blue channel holds the batch
            row += sum(len(p) for p in np.array_split(np.arange(len(train_labels)), 5)[:img[0, 0, 2]])
        assert row == rows[i] and info['gt_label'] == train_labels[rows[i]]
    counts = np.bincount([ds.get_cat_ids(i)[0] for i in range(len(ds))], minlength=num_classes)
    assert counts[0] == per_class and counts[-1] == per_class // 10

    test = CIFARLTDataset(data_root=str(tmp_path), num_classes=num_classes, split='test')
    assert len(test) == 2 * num_classes  # balanced, imbalance_factor ignored


def test_cifar_lt_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'cifar-100-python/train not found'):
        CIFARLTDataset(data_root=str(tmp_path), num_classes=100)
    with pytest.raises(ValueError, match='num_classes must be 10 or 100'):
        CIFARLTDataset(data_root=str(tmp_path), num_classes=20)
    _write_cifar(tmp_path, 10, 30)
    with pytest.raises(ValueError, match='class 0 has 30 images, fewer than the 48 '):
        long_tail_indices(np.repeat(np.arange(10), [30] + [50] * 9), 10, 10)
    # IF = n_max: the tail class keeps exactly one image; a larger IF would leave it empty
    labels = np.repeat(np.arange(10), 30)
    assert np.bincount(labels[long_tail_indices(labels, 10, 30)]).tolist()[-1] == 1
    with pytest.raises(ValueError, match='imbalance factor 31 leaves class 9 without images'):
        long_tail_indices(labels, 10, 31)
    with pytest.raises(ValueError, match="the config's class_stats and its dataset disagree"):
        CIFARLTDataset(data_root=str(tmp_path), num_classes=10, imbalance_factor=10, expected_counts=[30] * 10)
    batch = tmp_path / 'cifar-10-batches-py' / 'data_batch_1'
    with open(batch, 'wb') as f:
        pickle.dump({'data': np.zeros((4, 100), np.uint8), 'labels': [0] * 4}, f)
    with pytest.raises(ValueError, match=r'data_batch_1: "data" must be \(N, 3072\)'):
        CIFARLTDataset(data_root=str(tmp_path), num_classes=10, imbalance_factor=10)


def test_cifar100_lt_base_config_matches_dataset(tmp_path):
    """The base config's class_stats (computed in the config) is what the dataset draws from a full-size archive:
    CIFAR-100 IF100 -> 10,847 images, 35 many / 35 medium / 30 few-shot classes."""
    from mmpretrain.registry import DATASETS

    from ltmm.core.splits import shot_groups

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/cifar100_lt.py'))
    stats = load_class_stats(cfg.class_stats, num_classes=cfg.num_classes)
    assert stats.num_images == 10847
    groups = shot_groups(stats.image_count).tolist()
    assert [groups.count(g) for g in ('many', 'medium', 'few')] == [35, 35, 30]
    _write_cifar(tmp_path, 100, 500)
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tmp_path), pipeline=[])
    ds = DATASETS.build(ds_cfg)  # expected_counts=the config's counts: it would raise on any difference
    assert len(ds) == 10847

    cfg10 = Config.fromfile(str(REPO / 'configs/_base_/datasets/cifar10_lt.py'))
    assert load_class_stats(cfg10.class_stats, num_classes=10).num_images == 12406


@pytest.mark.parametrize('name, num_classes, stats_file', [
    ('imagenet_lt', 1000, 'data/imagenet/ImageNet_LT/ImageNet_LT_train.txt'),
    ('places_lt', 365, 'data/places365/Places_LT/Places_LT_train.txt'),
    ('inat18', 8142, 'data/inat2018/train2018.json'),
    ('digits_lt', 10, 'data/digits_lt/meta/train.txt'),
])
def test_dataset_base_config_contract(name, num_classes, stats_file):
    """The variables method configs inherit: num_classes, class_stats (the train annotation), data_root, the three
    dataloaders, ShotAccuracy evaluators on that class_stats, and a data_preprocessor of num_classes."""
    cfg = Config.fromfile(str(REPO / f'configs/_base_/datasets/{name}.py'))
    assert cfg.num_classes == num_classes and cfg.class_stats == stats_file
    assert cfg.train_dataloader.dataset.ann_file in stats_file and stats_file.startswith(cfg.data_root)
    for split in ('train', 'val', 'test'):
        assert f'{split}_dataloader' in cfg
    assert cfg.val_evaluator == cfg.test_evaluator == dict(type='ShotAccuracy', class_stats=stats_file)
    assert cfg.data_preprocessor.num_classes == num_classes


@pytest.mark.slow
def test_cifar100_lt_baseline_trains(tmp_path):
    """tools/train.py on the CIFAR-100-LT baseline config (ResNet-32, CIFARLTDataset, ShotAccuracy), one epoch on a
    small archive: the CIFAR-LT config family runs end to end."""
    from ..helpers import run, tool

    _write_cifar(tmp_path / 'cifar', 100, 10)
    root = str(tmp_path / 'cifar')
    work = tmp_path / 'work'
    out = run(tool('train.py', str(REPO / 'configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'),
                   '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=1',
                   f'train_dataloader.dataset.data_root={root}', 'train_dataloader.dataset.imbalance_factor=10',
                   'train_dataloader.dataset.expected_counts=None', f'val_dataloader.dataset.data_root={root}',
                   f'test_dataloader.dataset.data_root={root}', 'train_dataloader.num_workers=0',
                   'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
                   'val_dataloader.persistent_workers=False', 'test_dataloader.num_workers=0',
                   'test_dataloader.persistent_workers=False', f'val_evaluator.plot_dir={work}'),
              tmp_path, env={'OMP_NUM_THREADS': '1'}).stdout
    assert re.search(r'shot/all: \d', out) and re.search(r'shot/few: \d', out), out[-3000:]
    assert (work / 'epoch_1.pth').is_file() and (work / 'per_class_accuracy.png').is_file()


def test_make_cifar_lt_tool_writes_the_dataset_counts(tmp_path, monkeypatch, capsys):
    import runpy

    _write_cifar(tmp_path, 10, 60)
    out = tmp_path / 'stats.json'
    monkeypatch.setattr('sys.argv', ['make_cifar_lt.py', str(tmp_path), '--num-classes', '10', '--imbalance-factor',
                                     '10', '-o', str(out)])
    runpy.run_path(str(REPO / 'tools/data/make_cifar_lt.py'), run_name='__main__')
    ds = CIFARLTDataset(data_root=str(tmp_path), num_classes=10, imbalance_factor=10)
    stats = load_class_stats(str(out), num_classes=10)
    assert stats.image_count.tolist() == np.bincount([ds.get_cat_ids(i)[0] for i in range(len(ds))]).tolist()
    assert stats.classes == tuple(ds.metainfo['classes'])
    assert f'{len(ds)} training images, 60 ... 6 per class' in capsys.readouterr().out


@pytest.mark.parametrize('name', ['imagenet_lt', 'places_lt', 'inat18', 'cifar100_lt', 'cifar10_lt', 'digits_lt'])
def test_dataset_base_pipelines_run(name):
    """The train and test pipelines of each dataset base build (argument names included) and turn an image into
    inputs of the model's input size."""
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope

    init_default_scope('mmpretrain')
    cfg = Config.fromfile(str(REPO / f'configs/_base_/datasets/{name}.py'))
    channels = len(cfg.data_preprocessor.mean)
    for key in ('train_pipeline', 'test_pipeline'):
        steps = [t for t in cfg[key] if t['type'] != 'LoadImageFromFile']  # the image is given below
        img = np.random.RandomState(0).randint(0, 256, (300, 400, channels) if channels == 3 else (32, 32),
                                               dtype=np.uint8)
        if name.startswith('cifar'):
            img = img[:32, :32]
        out = Compose(steps)({'img': img, 'gt_label': 1, 'img_shape': img.shape[:2], 'ori_shape': img.shape[:2]})
        side = 224 if name in ('imagenet_lt', 'places_lt', 'inat18') else 32
        assert tuple(out['inputs'].shape) == (channels, side, side), (key, out['inputs'].shape)
        assert out['data_samples'].gt_label.tolist() == [1]
