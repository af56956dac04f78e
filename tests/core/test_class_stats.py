"""ltmm.core.class_stats: every input format on tiny hand-countable files, and the errors it promises."""
import json
import re
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest

from ltmm.core.class_stats import ClassStats, count_class_stats, load_class_stats
from ltmm.core.splits import lvis_frequency


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding='utf-8')
    return path


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding='utf-8')
    return path


def assert_stats(stats: ClassStats, num_images: int, image_count, instance_count, classes=None) -> None:
    assert stats.num_images == num_images
    np.testing.assert_array_equal(stats.image_count, image_count)
    np.testing.assert_array_equal(stats.instance_count, instance_count)
    assert stats.num_classes == len(image_count)
    assert stats.classes == (None if classes is None else tuple(classes))


@pytest.fixture
def lvis_data() -> Dict[str, Any]:
    """3 categories listed out of id order (7, 2, 5), 3 images (image 12 has no annotation).

    Sorted by id the classes are ant (2), bee (5), cat (7):
      ant: annotations 1, 2 (both in image 10) and 3 (image 11) -> 2 images, 3 instances
      bee: annotation 5 (image 10)                               -> 1 image,  1 instance
      cat: annotation 4 (image 11)                               -> 1 image,  1 instance
    The categories' own LVIS ``image_count`` fields are wrong on purpose: counts must come from the annotations.
    """
    return {
        'images': [{'id': 10}, {'id': 11}, {'id': 12}],
        'categories': [{'id': 7, 'name': 'cat', 'image_count': 999},
                       {'id': 2, 'name': 'ant', 'image_count': 999},
                       {'id': 5, 'name': 'bee', 'image_count': 999}],
        'annotations': [{'id': 1, 'image_id': 10, 'category_id': 2},
                        {'id': 2, 'image_id': 10, 'category_id': 2},
                        {'id': 3, 'image_id': 11, 'category_id': 2},
                        {'id': 4, 'image_id': 11, 'category_id': 7},
                        {'id': 5, 'image_id': 10, 'category_id': 5}],
    }


STATS_DICT = {'num_images': 5, 'image_count': [3, 2], 'instance_count': [4, 2], 'classes': ['a', 'b']}


# ---------------------------------------------------------------- formats

def test_lvis_json_counts_from_annotations(tmp_path, lvis_data):
    path = write_json(tmp_path / 'lvis_train.json', lvis_data)
    for stats in (count_class_stats(path), load_class_stats(str(path))):
        # image 12 has no annotation: mmdet does not train on it, and it is not counted
        assert_stats(stats, 2, [2, 1, 1], [3, 1, 1], ['ant', 'bee', 'cat'])
        assert stats.source == str(path)


def test_single_label_list_with_spaces_in_paths(tmp_path):
    # labels 1, 0, 1, 2 (the blank line is skipped; '12.jpg' is part of a path, not a label)
    path = write_text(tmp_path / 'train.txt', 'train/my photo.jpg 1\ntrain/a.jpg 0\ntrain/b c 12.jpg 1\n\n'
                                              'train/d.jpg 2\n')
    stats = load_class_stats(path)
    assert_stats(stats, 4, [1, 2, 1], [1, 2, 1])


def test_list_num_classes_pads_with_empty_classes(tmp_path):
    path = write_text(tmp_path / 'train.txt', 'a.jpg 0\nb.jpg 1\n')
    assert_stats(count_class_stats(path, num_classes=4), 2, [1, 1, 0, 0], [1, 1, 0, 0])
    assert_stats(load_class_stats(path, num_classes=4, allow_zero=True), 2, [1, 1, 0, 0], [1, 1, 0, 0])
    with pytest.raises(ValueError, match='class index 2, 3'):
        load_class_stats(path, num_classes=4)


def test_multi_label_list_repeated_label(tmp_path):
    # a: {0, 2, 2}, b: {2}, c: {1, 0}
    # images:    class 0 in a, c -> 2; class 1 in c -> 1; class 2 in a, b -> 2
    # instances: class 0: 1 + 1 = 2;   class 1: 1;         class 2: 2 (a) + 1 (b) = 3
    path = write_text(tmp_path / 'multi.txt', 'a.jpg 0 2 2\nb.jpg 2\nc.jpg 1 0\n')
    assert_stats(load_class_stats(path), 3, [2, 1, 2], [2, 1, 3])


def test_openmmlab_json(tmp_path):
    # gt_label 0, [1, 2], 2, [1, 1]: images c0 1, c1 2, c2 2; instances c0 1, c1 3, c2 2
    data = {'metainfo': {'classes': ['x', 'y', 'z']},
            'data_list': [{'img_path': 'a.jpg', 'gt_label': 0}, {'img_path': 'b.jpg', 'gt_label': [1, 2]},
                          {'img_path': 'c.jpg', 'gt_label': 2}, {'img_path': 'd.jpg', 'gt_label': [1, 1]}]}
    path = write_json(tmp_path / 'train.json', data)
    assert_stats(load_class_stats(path, num_classes=3), 4, [1, 2, 2], [1, 3, 2], ['x', 'y', 'z'])


def test_openmmlab_json_class_count_comes_from_metainfo(tmp_path):
    # 3 classes in metainfo, label 2 ('z') never used: it is an empty class, not a 2-class label space
    data = {'metainfo': {'classes': ['x', 'y', 'z']}, 'data_list': [{'gt_label': 0}, {'gt_label': 1}]}
    path = write_json(tmp_path / 'train.json', data)
    assert_stats(load_class_stats(path, allow_zero=True), 2, [1, 1, 0], [1, 1, 0], ['x', 'y', 'z'])
    with pytest.raises(ValueError, match=r'class index 2 \(z\)'):
        load_class_stats(path)


def test_openmmlab_json_num_classes_differs_from_metainfo(tmp_path):
    # the file names 3 classes; a model with 5 must be told so, not get 5 counts with 3 names
    data = {'metainfo': {'classes': ['x', 'y', 'z']},
            'data_list': [{'gt_label': 0}, {'gt_label': 1}, {'gt_label': 2}]}
    path = write_json(tmp_path / 'train.json', data)
    for allow_zero in (False, True):
        with pytest.raises(ValueError, match=r'3 .*5|5 .*3'):
            load_class_stats(path, num_classes=5, allow_zero=allow_zero)


def test_stats_dict_and_its_json_file(tmp_path):
    path = write_json(tmp_path / 'class_stats.json', STATS_DICT)
    from_dict = load_class_stats(STATS_DICT, num_classes=2)
    from_file = load_class_stats(str(path), num_classes=2)
    assert_stats(from_dict, 5, [3, 2], [4, 2], ['a', 'b'])
    assert_stats(from_file, 5, [3, 2], [4, 2], ['a', 'b'])
    assert from_dict.source == '<dict>'
    assert from_file.source == str(path)


def test_class_stats_instance_passes_through_check():
    stats = load_class_stats(STATS_DICT)
    assert load_class_stats(stats) is stats
    with pytest.raises(ValueError, match='num_classes=3'):
        load_class_stats(stats, num_classes=3)


def test_to_dict_round_trip(tmp_path, lvis_data):
    stats = count_class_stats(write_json(tmp_path / 'lvis.json', lvis_data))
    as_dict = stats.to_dict()
    assert as_dict == {'num_images': 2, 'image_count': [2, 1, 1], 'instance_count': [3, 1, 1],
                       'classes': ['ant', 'bee', 'cat']}
    json.dumps(as_dict)  # plain Python types only
    again = load_class_stats(as_dict)
    assert_stats(again, stats.num_images, stats.image_count, stats.instance_count, stats.classes)
    # and through a file, without names
    no_names = load_class_stats({k: v for k, v in as_dict.items() if k != 'classes'})
    assert 'classes' not in no_names.to_dict()
    again = load_class_stats(write_json(tmp_path / 'stats.json', no_names.to_dict()))
    assert again.to_dict() == no_names.to_dict()


# ---------------------------------------------------------------- errors

def test_missing_file(tmp_path):
    path = tmp_path / 'nowhere' / 'train.txt'
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load_class_stats(str(path))
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        count_class_stats(path)


def test_wrong_length_vs_num_classes(tmp_path, lvis_data):
    with pytest.raises(ValueError, match=r'2 classes.*num_classes=3'):
        load_class_stats(STATS_DICT, num_classes=3)
    path = write_json(tmp_path / 'lvis.json', lvis_data)
    with pytest.raises(ValueError, match=r'3 classes.*num_classes=4') as info:
        load_class_stats(path, num_classes=4)
    assert str(path) in str(info.value)


def test_unknown_category_id(tmp_path, lvis_data):
    lvis_data['annotations'].append({'id': 6, 'image_id': 10, 'category_id': 99})
    with pytest.raises(ValueError, match='unknown category_id 99'):
        count_class_stats(write_json(tmp_path / 'lvis.json', lvis_data))


def test_unknown_image_id(tmp_path, lvis_data):
    lvis_data['annotations'].append({'id': 6, 'image_id': 42, 'category_id': 5})
    with pytest.raises(ValueError, match='unknown image_id 42'):
        count_class_stats(write_json(tmp_path / 'lvis.json', lvis_data))


def test_detection_json_missing_field(tmp_path, lvis_data):
    del lvis_data['categories']
    with pytest.raises(ValueError, match='"categories"'):
        count_class_stats(write_json(tmp_path / 'lvis.json', lvis_data))


def test_empty_class(tmp_path, lvis_data):
    data = {'num_images': 4, 'image_count': [3, 0, 1], 'instance_count': [3, 0, 1]}
    with pytest.raises(ValueError, match='class index 1 has no training image'):
        load_class_stats(data)
    assert_stats(load_class_stats(data, allow_zero=True), 4, [3, 0, 1], [3, 0, 1])
    # a category without annotations in a detection json: index 1 once sorted by id, named in the message
    lvis_data['annotations'] = [a for a in lvis_data['annotations'] if a['category_id'] != 5]
    path = write_json(tmp_path / 'lvis.json', lvis_data)
    with pytest.raises(ValueError, match=r'class index 1 \(bee\)'):
        load_class_stats(path)
    assert_stats(load_class_stats(path, allow_zero=True), 2, [2, 0, 1], [3, 0, 1], ['ant', 'bee', 'cat'])


def test_label_out_of_range(tmp_path):
    path = write_text(tmp_path / 'train.txt', 'a.jpg 0\nb.jpg 3\nc.jpg 1\n')
    with pytest.raises(ValueError, match=re.escape('label 3, outside [0, 3)')):
        load_class_stats(path, num_classes=3)
    negative = write_text(tmp_path / 'neg.txt', 'a.jpg 0\nb.jpg -1\n')
    with pytest.raises(ValueError, match='label -1'):
        load_class_stats(negative)
    mm = write_json(tmp_path / 'mm.json', {'data_list': [{'gt_label': 0}, {'gt_label': [1, 4]}]})
    with pytest.raises(ValueError, match=re.escape('label 4, outside [0, 2)')):
        load_class_stats(mm, num_classes=2)


@pytest.mark.parametrize('bad_line', ['b.jpg', 'b.jpg x', '7'])
def test_malformed_list_line(tmp_path, bad_line):
    path = write_text(tmp_path / 'train.txt', f'a.jpg 0\n{bad_line}\nc.jpg 1\n')
    with pytest.raises(ValueError, match=re.escape(f'{path}:2:')):
        load_class_stats(path)


def test_empty_list(tmp_path):
    with pytest.raises(ValueError, match='empty'):
        load_class_stats(write_text(tmp_path / 'train.txt', '\n\n'))


def test_openmmlab_entry_without_label(tmp_path):
    path = write_json(tmp_path / 'mm.json', {'data_list': [{'gt_label': 0}, {'img_path': 'b.jpg'}]})
    with pytest.raises(ValueError, match='entry 1 has no "gt_label"'):
        load_class_stats(path)


def test_mismatched_count_lengths():
    with pytest.raises(ValueError, match=r'"image_count" has 2 entries but "instance_count" has 3'):
        load_class_stats({'num_images': 3, 'image_count': [1, 2], 'instance_count': [1, 2, 3]})
    with pytest.raises(ValueError, match=r'"classes" has 3 names'):
        load_class_stats({'num_images': 3, 'image_count': [1, 2], 'instance_count': [1, 2],
                          'classes': ['a', 'b', 'c']})


@pytest.mark.parametrize('field', ['image_count', 'instance_count'])
@pytest.mark.parametrize('values', [[2, -1], [2, 1.5], ['2', '1']])
def test_bad_count_values(field, values):
    data = {'num_images': 3, 'image_count': [2, 1], 'instance_count': [2, 1]}
    data[field] = values
    with pytest.raises(ValueError, match=f'"{field}"'):
        load_class_stats(data)


def test_missing_fields_and_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match=re.escape("missing field(s) ['instance_count']")):
        load_class_stats({'num_images': 3, 'image_count': [1, 2]})
    with pytest.raises(ValueError, match='not valid JSON'):
        load_class_stats(write_text(tmp_path / 'broken.json', '{"num_images": '))
    with pytest.raises(ValueError, match='not a class_stats'):
        load_class_stats(write_json(tmp_path / 'list.json', [1, 2, 3]))
    with pytest.raises(TypeError):
        load_class_stats(3)


# ---------------------------------------------------------------- LVIS frequency groups

@pytest.mark.parametrize('image_count, group', [(1, 'r'), (10, 'r'), (11, 'c'), (100, 'c'), (101, 'f')])
def test_lvis_frequency_boundaries(image_count, group):
    # LVIS v1: rare 1-10 training images, common 11-100, frequent > 100
    assert lvis_frequency(image_count) == group


def test_a_file_is_parsed_once_per_process(tmp_path, monkeypatch):
    """The loss, the metric and another loss loading the same file cost one parse; a changed file is parsed again."""
    from ltmm.core import class_stats as module

    lst = tmp_path / 'train.txt'
    lst.write_text('a.jpg 0\nb.jpg 1\nc.jpg 1\n')
    parses = []
    real = module.parse_label_lines
    monkeypatch.setattr(module, 'parse_label_lines',
                        lambda lines, source, *args: parses.append(source) or real(lines, source, *args))
    first = load_class_stats(str(lst), num_classes=2)
    again = load_class_stats(lst, num_classes=2)  # a PathLike of the same file
    assert again is first and len(parses) == 1
    assert not first.image_count.flags.writeable  # shared, so read-only
    with pytest.raises(ValueError, match='read-only'):
        first.image_count[0] = 7
    lst.write_text('a.jpg 0\nb.jpg 1\nc.jpg 1\nd.jpg 0\n')  # changed on disk: counted again
    changed = load_class_stats(str(lst), num_classes=2)
    assert len(parses) == 2 and changed.image_count.tolist() == [2, 2]


def test_save_writes_what_load_reads(tmp_path, lvis_data):
    stats = count_class_stats(write_json(tmp_path / 'lvis.json', lvis_data))
    out = stats.save(tmp_path / 'deep' / 'folder' / 'class_stats.json')
    loaded = load_class_stats(out)
    assert loaded.to_dict() == stats.to_dict() and loaded.classes == ('ant', 'bee', 'cat')
