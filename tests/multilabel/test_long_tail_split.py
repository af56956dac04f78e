"""VOC-LT / COCO-MLT split generation (tools/data/make_multilabel_lt.py) on synthetic annotation files, and the
multi-label list datasets."""
import importlib.util
import json
import random
import re

import numpy as np
import pytest

import ltmm.multilabel  # noqa: F401  (registration)
from ltmm.cls.samplers import ClassAwareSampler
from ltmm.core.class_stats import load_class_stats
from ltmm.multilabel.datasets.multilabel_lt import VOCLTDataset, read_multilabel_list
from ltmm.multilabel.long_tail_split import cooccurrence_order, pareto_reference, select_long_tail

from ..helpers import REPO, run, tool

VOC_CLASSES = VOCLTDataset.METAINFO['classes']


def load_tool():
    spec = importlib.util.spec_from_file_location('make_multilabel_lt', REPO / 'tools/data/make_multilabel_lt.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_voc(root, year, image_set, labels, difficult_only=()):
    """A VOC tree holding only what the generator reads: the image set and one XML per image."""
    base = root / f'VOC{year}'
    (base / 'ImageSets' / 'Main').mkdir(parents=True)
    (base / 'Annotations').mkdir()
    ids = [f'{year}_{i:06d}' for i in range(len(labels) + len(difficult_only))]
    (base / 'ImageSets' / 'Main' / f'{image_set}.txt').write_text('\n'.join(ids) + '\n')
    rows = list(labels) + [None] * len(difficult_only)
    for image_id, row, extra in zip(ids, rows, [None] * len(labels) + list(difficult_only)):
        objects = [(VOC_CLASSES[c], 0) for c in (row if row is not None else [])]
        objects += [(VOC_CLASSES[extra], 1)] if extra is not None else []
        objects += [(VOC_CLASSES[row[0]], 1)] if row else []  # a difficult duplicate changes nothing
        xml = ''.join(f'<object><name>{n}</name><difficult>{d}</difficult></object>' for n, d in objects)
        (base / 'Annotations' / f'{image_id}.xml').write_text(f'<annotation>{xml}</annotation>')
    return ids


def synthetic_labels(num_images, num_classes, seed):
    rng = np.random.default_rng(seed)
    popularity = 0.9 ** np.arange(num_classes)
    p = popularity / popularity.sum()
    return [sorted(set(rng.choice(num_classes, size=rng.integers(1, 4), p=p).tolist())) for _ in range(num_images)]


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('VOCdevkit')
    write_voc(root, '2012', 'trainval', synthetic_labels(900, 20, 0), difficult_only=[3, 4])
    write_voc(root, '2007', 'test', synthetic_labels(40, 20, 1))
    return root


def test_pareto_reference_matches_scipy():
    from scipy.stats import pareto
    x = np.linspace(pareto.ppf(0.0, 6), pareto.ppf(0.99, 6), 20)
    expected = (pareto(6).pdf(x) * (800 - 1) / 6 + 1).astype(int)
    ours = pareto_reference(20, 800, 1, 6)
    assert ours.tolist() == expected.tolist()
    assert ours[0] == 800 and ours[-1] >= 1 and np.all(np.diff(ours) <= 0)


def test_cooccurrence_order_by_hand():
    # images: {0}, {0}, {0}, {1, 2}, {1, 2}, {2}: sum_i P(j|i) = [1, 1 + 2/3, 1 + 1]
    labels = np.zeros((6, 3), dtype=bool)
    for r, ls in enumerate([[0], [0], [0], [1, 2], [1, 2], [2]]):
        labels[r, ls] = True
    assert cooccurrence_order(labels).tolist() == [2, 1, 0]


def test_select_long_tail_hits_the_reference_without_cooccurrence():
    labels = np.zeros((60, 3), dtype=bool)
    labels[np.arange(60), np.repeat([0, 1, 2], 20)] = True  # single-label: 20 images per class, order 0, 1, 2
    rows = select_long_tail(labels, [15, 6, 2], seed=0)
    assert labels[rows].sum(0).tolist() == [15, 6, 2]
    assert select_long_tail(labels, [15, 6, 2], seed=0) == rows
    assert select_long_tail(labels, [15, 6, 2], seed=1) != rows
    with pytest.warns(UserWarning, match='fewer source images'):
        select_long_tail(labels, [30, 6, 2], seed=0)


def official_selection(gt_labels, ref_dist, seed):
    """The selection loop of the official generator (wutong16/DistributionBalancedLoss,
    tools/create_longtail_dataset.py, create_coco_longtail: the VOC function is the same without the clamp of the
    draw to the available images), transcribed step by step: per-class lists of source rows and running sets, the
    co-occurrence order from per-class label sums, a float running count per class, and ``random.sample(s, k)`` on a
    set ``s`` as Python < 3.11 ran it, over ``tuple(s)``. Returns the selected rows in set order, and how many
    images were added and removed in all."""
    rng = random.Random(seed)  # the script's random.seed(0) at import; nothing else draws from it
    num_classes = gt_labels.shape[1]
    ori_idx = {c: [] for c in range(num_classes)}
    tmp_idx = {c: set() for c in range(num_classes)}
    co_labels = [[] for _ in range(num_classes)]
    for i, label in enumerate(gt_labels):
        for c in np.where(label == 1)[0]:
            ori_idx[c].append(i)
            co_labels[c].append(label)
    co_prob = np.zeros((num_classes, num_classes))
    for c in range(num_classes):
        co_occurrence = np.sum(co_labels[c], axis=0)
        co_prob[c] = co_occurrence / co_occurrence[c]
    rank_idx = np.argsort(-np.sum(co_prob, axis=0))
    select_idx, tmp_dist, added, removed = set(), np.zeros(num_classes), 0, 0
    for k, c in enumerate(rank_idx):
        new_sample = int(ref_dist[k] - tmp_dist[c])
        if new_sample < 0:
            for t in rng.sample(tuple(tmp_idx[c]), -new_sample):
                removed += 1
                select_idx.remove(t)
                tmp_dist -= gt_labels[t]
                for g in np.where(gt_labels[t] > 0)[0].tolist():
                    tmp_idx[g].remove(t)
        elif new_sample > 0:
            new_sample = min(len(set(ori_idx[c]) - tmp_idx[c]), new_sample)
            for t in rng.sample(tuple(set(ori_idx[c]) - tmp_idx[c]), new_sample):
                added += 1
                select_idx.add(t)
                tmp_dist += gt_labels[t]
                for g in np.where(gt_labels[t] > 0)[0].tolist():
                    tmp_idx[g].add(t)
    return list(select_idx), added, removed


@pytest.mark.filterwarnings('ignore:classes with fewer source images')  # the clamp of the COCO branch, exercised
@pytest.mark.parametrize('num_images, num_classes, max_count, seed', [(900, 20, 150, 0), (3000, 20, 800, 0),
                                                                      (2500, 80, 300, 3)])
def test_select_long_tail_draws_as_the_official_generator(num_images, num_classes, max_count, seed):
    rows = synthetic_labels(num_images, num_classes, seed)
    labels = np.zeros((num_images, num_classes), dtype=np.int64)
    for r, ls in enumerate(rows):
        labels[r, ls] = 1
    labels[np.arange(num_classes), np.arange(num_classes)] = 1  # every class has an image (the official divides)
    reference = pareto_reference(num_classes, max_count, 1)
    expected, added, removed = official_selection(labels, reference, seed)
    assert added > len(expected) > 0 and removed > 0, 'both the add and the remove branch are exercised'
    assert select_long_tail(labels, reference, seed) == expected, 'same images in the same order'


@pytest.mark.slow
def test_voc_split_cli_reports_its_counts_and_is_deterministic(voc_root, tmp_path):
    out = run(tool('data/make_multilabel_lt.py', 'voc', '--data-root', str(voc_root), '--max', '150',
                   '--out-dir', str(tmp_path / 'a')), REPO).stdout
    match = re.search(r'VOC-LT: (\d+) training images \(of (\d+)\), (\d+) test images; classes head/medium/tail = '
                      r'(\d+)/(\d+)/(\d+)', out)
    assert match, out
    train, source, test, head, medium, tail = map(int, match.groups())
    assert source == 902, 'images with only difficult objects are kept'
    assert test == 40
    stats = load_class_stats(str(tmp_path / 'a' / 'class_stats.json'))
    items = read_multilabel_list(str(tmp_path / 'a' / 'train.txt'))
    assert train == stats.num_images == len(items) < 900
    counts = stats.image_count
    assert (head, medium, tail) == ((counts >= 100).sum(), ((counts >= 20) & (counts < 100)).sum(),
                                    (counts < 20).sum())
    assert head and medium and tail, 'the synthetic set spans all three splits'
    split = json.loads((tmp_path / 'a' / 'class_split.json').read_text())
    assert sorted(split['head'] + split['medium'] + split['tail']) == list(range(20))
    assert stats.classes == tuple(VOC_CLASSES)
    assert all(p.startswith('VOC2012/JPEGImages/2012_') for p, _ in items)
    assert (tmp_path / 'a' / 'class_counts.png').is_file()
    # same seed, same split; another seed, another split
    make_split = load_tool().make_split
    make_split('voc', str(voc_root), str(tmp_path / 'b'), max_count=150)
    assert (tmp_path / 'a' / 'train.txt').read_text() == (tmp_path / 'b' / 'train.txt').read_text()
    make_split('voc', str(voc_root), str(tmp_path / 'c'), max_count=150, seed=1)
    assert (tmp_path / 'a' / 'train.txt').read_text() != (tmp_path / 'c' / 'train.txt').read_text()


def test_published_id_list_is_reproduced_exactly(voc_root, tmp_path):
    module = load_tool()
    ids = [f'2012_{i:06d}' for i in (5, 17, 3, 400)]
    (tmp_path / 'ids.txt').write_text('\n'.join(ids) + '\n')
    summary = module.make_split('voc', str(voc_root), str(tmp_path / 'out'), img_ids=str(tmp_path / 'ids.txt'))
    assert summary['train_images'] == 4
    assert (tmp_path / 'out' / 'img_id.txt').read_text() == '\n'.join(ids) + '\n', 'the list, in its order'
    assert [p for p, _ in read_multilabel_list(str(tmp_path / 'out' / 'train.txt'))] == [
        f'VOC2012/JPEGImages/{i}.jpg' for i in ids]
    (tmp_path / 'bad.txt').write_text('2012_000005\n2099_000001\n')
    with pytest.raises(ValueError, match=r"bad.txt: 1 image id\(s\).*2099_000001"):
        module.make_split('voc', str(voc_root), str(tmp_path / 'out2'), img_ids=str(tmp_path / 'bad.txt'))
    with pytest.raises(FileNotFoundError, match='VOC image set not found'):
        module.make_split('voc', str(tmp_path / 'nowhere'), str(tmp_path / 'out3'))


def test_voc_labels_count_difficult_objects_and_keep_every_image(voc_root):
    ids, labels, paths = load_tool().load_voc(str(voc_root), '2012', 'trainval')
    assert len(ids) == len(labels) == len(paths) == 902
    assert np.flatnonzero(labels[900]).tolist() == [3] and np.flatnonzero(labels[901]).tolist() == [4], \
        'an image whose only object is difficult is labelled with its class'


def test_coco_split_from_a_synthetic_instances_json(tmp_path):
    ann_dir = tmp_path / 'annotations'
    ann_dir.mkdir()
    cats = [dict(id=cid, name=f'cat{cid}') for cid in (1, 2, 5, 9)]  # non-contiguous ids, as COCO's
    box = dict(bbox=[0, 0, 10, 10], area=100.0)

    def instances(labels):
        """The images of ``labels``, then one with a crowd annotation only, one with degenerate boxes only (area 0,
        width < 1, height < 1, ``ignore``) and one without annotations."""
        n = len(labels)
        images = [dict(id=i + 1, file_name=f'{i + 1:012d}.jpg') for i in range(n + 3)]
        anns = [dict(id=100 + k, image_id=i + 1, category_id=cats[c]['id'], iscrowd=0, **box)
                for k, (i, c) in enumerate((i, c) for i, ls in enumerate(labels) for c in ls)]
        anns.append(dict(id=1, image_id=n + 1, category_id=2, iscrowd=1, **box))  # crowd: counts
        anns += [dict(id=2, image_id=n + 2, category_id=1, iscrowd=0, bbox=[0, 0, 10, 10], area=0.0),
                 dict(id=3, image_id=n + 2, category_id=5, iscrowd=0, bbox=[0, 0, 0.5, 10], area=5.0),
                 dict(id=4, image_id=n + 2, category_id=9, iscrowd=0, bbox=[0, 0, 10, 0.9], area=9.0),
                 dict(id=5, image_id=n + 2, category_id=2, iscrowd=0, ignore=True, **box)]
        return dict(images=images, annotations=anns, categories=cats)

    (ann_dir / 'instances_train2017.json').write_text(json.dumps(instances(synthetic_labels(300, 4, 2))))
    (ann_dir / 'instances_val2017.json').write_text(json.dumps(instances(synthetic_labels(30, 4, 3))))
    module = load_tool()
    (ids, labels, _), _ = module.load_coco(str(tmp_path), 'val')
    assert ids[-3:] == ['31', '32', '33'], 'every image, in the file order'
    assert [np.flatnonzero(row).tolist() for row in labels[-3:]] == [[1], [], []]
    summary = module.make_split('coco', str(tmp_path), max_count=60)
    out = tmp_path / 'longtail2017'
    stats = load_class_stats(str(out / 'class_stats.json'))
    assert summary['source_images'] == 303 and summary['test_images'] == 33
    assert stats.classes == ('cat1', 'cat2', 'cat5', 'cat9') and stats.num_images == summary['train_images']
    assert summary['splits'] == {'head': 0, 'medium': int((stats.image_count >= 20).sum()),
                                 'tail': int((stats.image_count < 20).sum())}
    test_list = (out / 'test.txt').read_text().splitlines()
    assert test_list[0].startswith('val2017/000000000001.jpg ')
    assert test_list[-2:] == ['val2017/000000000032.jpg', 'val2017/000000000033.jpg'], 'unlabelled: the path alone'
    assert read_multilabel_list(str(out / 'test.txt'), allow_unlabelled=True)[-1] == ('val2017/000000000033.jpg', [])
    assert all(labels for _, labels in read_multilabel_list(str(out / 'train.txt'))), 'training images are labelled'
    (tmp_path / 'blank.txt').write_text('7\n302\n303\n')
    with pytest.raises(ValueError, match=r"blank.txt: 2 training image\(s\) without any label, e.g. \['302', '303'\]"):
        module.make_split('coco', str(tmp_path), str(tmp_path / 'blank'), img_ids=str(tmp_path / 'blank.txt'))
    (tmp_path / 'ids.txt').write_text('000000000007\n12\n')  # zero-padded ids are accepted
    assert module.make_split('coco', str(tmp_path), str(tmp_path / 'pub'),
                             img_ids=str(tmp_path / 'ids.txt'))['train_images'] == 2


def test_list_dataset_and_class_aware_sampler(tmp_path):
    (tmp_path / 'train.txt').write_text('VOC2012/JPEGImages/a b.jpg 3 14\nVOC2012/JPEGImages/c.jpg 14\n\n'
                                        'VOC2012/JPEGImages/d.jpg 0 14 3\n')
    ds = VOCLTDataset(data_root=str(tmp_path), ann_file='train.txt', data_prefix='imgs', pipeline=[])
    assert len(ds) == 3
    assert ds.get_data_info(0)['img_path'] == f'{tmp_path}/imgs/VOC2012/JPEGImages/a b.jpg'
    assert [ds.get_cat_ids(i) for i in range(3)] == [[3, 14], [14], [0, 3, 14]]
    sampler = ClassAwareSampler(ds, num_samples_cls=1, seed=0)  # 3 non-empty classes, max count 3
    assert len(sampler) == 9 and set(sampler) <= {0, 1, 2}
    (tmp_path / 'bad.txt').write_text('x.jpg 1\ny.jpg 20\n')
    with pytest.raises(ValueError, match=r'bad.txt.*y.jpg.*outside the 20 classes'):
        VOCLTDataset(data_root=str(tmp_path), ann_file='bad.txt', pipeline=[])
    (tmp_path / 'nolabel.txt').write_text('x.jpg 1\ny.jpg\n')
    with pytest.raises(ValueError, match='nolabel.txt:2'):
        read_multilabel_list(str(tmp_path / 'nolabel.txt'))
    with pytest.raises(ValueError, match='nolabel.txt:2'):  # a training image needs a label
        VOCLTDataset(data_root=str(tmp_path), ann_file='nolabel.txt', pipeline=[])
    test_set = VOCLTDataset(data_root=str(tmp_path), ann_file='nolabel.txt', pipeline=[], test_mode=True)
    assert [test_set.get_cat_ids(i) for i in range(2)] == [[1], []], 'a test image may have no label'
