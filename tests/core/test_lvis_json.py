"""ltmm.core.lvis_json: the numpy reader of regular result files gives exactly json's values, and hands anything
irregular back to the json path (which then gives the same columns, or names the error)."""
import copy
import io
import json
from decimal import Context, Decimal

import numpy as np
import pytest

from ltmm.core.lvis_eval import MaskColumn, read_result_columns
from ltmm.core.lvis_json import read_regular_results

from .test_lvis_eval import SMALL, assert_columns, bench, categories, expected_columns, uncompressed


def workload(seed=0, num_images=4, dets_per_image=25):
    _, dets, segm_dets = bench.make_lvis_workload(num_images=num_images, categories=categories(SMALL),
                                                  dets_per_image=dets_per_image, seed=seed)
    return dets, segm_dets


def fast(text, iou_type='bbox', chunk_bytes=1 << 20):
    return read_regular_results(io.BytesIO(text.encode() if isinstance(text, str) else text), iou_type, chunk_bytes)


def assert_fast_columns(results, iou_type, tmp_path, chunk_bytes=1 << 20, **dump):
    """The fast reader takes the file and gives the json path's columns, bit for bit; so does read_result_columns."""
    text = json.dumps(results, **dump)
    columns = fast(text, iou_type, chunk_bytes)
    assert columns is not None
    img, cat, score, boxes, masks = columns
    expected = expected_columns(results, iou_type)
    assert img.dtype == cat.dtype == np.int64 and score.dtype == np.float64
    assert img.tolist() == expected[0] and cat.tolist() == expected[1]
    np.testing.assert_array_equal(score.view(np.int64), np.array(expected[2], np.float64).view(np.int64))
    if expected[3] is None:
        assert boxes is None
    else:
        np.testing.assert_array_equal(boxes.view(np.int64), expected[3].view(np.int64))
    path = tmp_path / 'results.json'
    path.write_text(text)
    assert_columns(read_result_columns(path, iou_type, chunk_chars=chunk_bytes), expected)


@pytest.mark.parametrize('chunk_bytes', [50, 333, 1 << 20])
@pytest.mark.parametrize('dump', [dict(), dict(indent=2), dict(separators=(',', ':')), dict(indent='\t')],
                         ids=['default', 'indent', 'compact', 'tab'])
def test_regular_files_are_read_exactly(chunk_bytes, dump, tmp_path):
    dets, segm_dets = workload()
    no_box = [{k: v for k, v in d.items() if k != 'bbox'} for d in segm_dets]
    mmdet_order = [dict(image_id=d['image_id'], bbox=d['bbox'], score=d['score'], category_id=d['category_id'],
                        segmentation=dict(counts=d['segmentation']['counts'], size=d['segmentation']['size']))
                   for d in segm_dets]
    for iou_type, results in (('bbox', dets), ('segm', segm_dets), ('segm', no_box), ('bbox', no_box),
                              ('bbox', segm_dets), ('segm', mmdet_order)):
        assert_fast_columns(results, iou_type, tmp_path, chunk_bytes, **dump)


def test_numbers_are_json_numbers_bit_for_bit(tmp_path):
    """Exponents, -0 (an int: 0.0) and -0.0, 16 to 20 significant digits (long double and string cast paths),
    halfway cases, big integers in a box, each as json reads it."""
    rng = np.random.default_rng(0)
    numbers = ['0', '-0', '-0.0', '0.000', '1e-05', '1E+3', '-2.5e-7', '7e0', '0.1', '-0.30000000000000004',
               '9007199254740993', '9007199254740993.0', '900719925474099.3', '123456789012345678901234',
               '1.7976931348623157e308', '5e-324', '2.2250738585072011e-308', '0.50000000000000011102230246251565',
               '1.00000000000000011102230246251565404236316680908203125', '4.35', '0.0000000000000000001']
    numbers += [repr(float(x)) for x in rng.random(300)]  # 16-17 digits, as json.dumps writes float32 scores
    numbers += [f'{x:.{d}f}' for x, d in zip(rng.uniform(-1e4, 1e4, 300), rng.integers(0, 19, 300))]
    numbers += [str(int(x)) + '.' + str(int(y)) for x, y in zip(rng.integers(0, 10 ** 9, 200),
                                                                   rng.integers(10 ** 8, 10 ** 9, 200))]
    # doubles' midpoints: the long double path must not round twice
    # 17 and 18 significant digits next to midpoints between two doubles: the long double path must not round twice
    for x in rng.random(100):
        midpoint = (Decimal(float(x)) + Decimal(float(np.nextafter(x, 2)))) / 2
        numbers += [str(Context(prec=17).plus(midpoint)), str(Context(prec=18).plus(midpoint))]
    text = '[' + ', '.join(f'{{"image_id": {i}, "category_id": -{i}, "bbox": [{numbers[i]}, {numbers[-i - 1]}, '
                           f'{numbers[i]}, 1], "score": {numbers[i]}}}' for i in range(len(numbers))) + ']'
    results = json.loads(text)
    columns = fast(text)
    assert columns is not None
    np.testing.assert_array_equal(columns[2].view(np.int64),
                                  np.array([r['score'] for r in results], np.float64).view(np.int64))
    np.testing.assert_array_equal(columns[3].view(np.int64),
                                  np.array([r['bbox'] for r in results], np.float64).view(np.int64))
    assert columns[1].tolist() == [r['category_id'] for r in results]


def test_counts_with_escaped_backslashes(tmp_path):
    _, segm_dets = workload(seed=3)
    assert any('\\' in d['segmentation']['counts'] for d in segm_dets)  # json writes them as \\
    for d in segm_dets[:3]:
        d['segmentation']['counts'] = '\\\\' + d['segmentation']['counts'] + '\\'  # runs of 2 and 3 escaped
    assert_fast_columns(segm_dets, 'segm', tmp_path)
    masks = MaskColumn.from_buffer(*fast(json.dumps(segm_dets), 'segm')[4])
    assert list(masks) == expected_columns(segm_dets, 'segm')[4]


def irregular(results):
    """Result lists the fast reader must hand back to json (name: (results or text, iou type))."""
    out = {}
    extra = copy.deepcopy(results)
    extra[5]['note'] = 'x'
    out['an extra key'] = extra
    order = copy.deepcopy(results)
    order[7] = dict(reversed(list(order[7].items())))
    out['another key order'] = order
    missing = copy.deepcopy(results)
    del missing[4]['score']
    out['a missing key'] = missing
    rle = copy.deepcopy(results)
    rle[6]['segmentation'] = uncompressed(rle[6]['segmentation'])
    out['an uncompressed RLE'] = rle
    poly = copy.deepcopy(results)
    poly[0]['segmentation'] = [[1.0, 1.0, 9.0, 1.0, 9.0, 9.0]]
    out['a polygon first'] = poly
    as_float = copy.deepcopy(results)
    as_float[3]['image_id'] = float(as_float[3]['image_id'])
    out['a float image id'] = as_float
    boolean = copy.deepcopy(results)
    boolean[0]['category_id'] = True
    out['a bool first'] = boolean
    unicode = copy.deepcopy(results)
    unicode[2]['segmentation']['counts'] += 'é'
    out['non-ASCII counts'] = unicode
    nan = copy.deepcopy(results)
    nan[9]['score'] = float('inf')
    out['an Infinity score'] = nan
    box5 = copy.deepcopy(results)
    box5[8]['bbox'] = box5[8]['bbox'] + [1.0]
    out['a box of 5 numbers'] = box5
    out['one result'] = results[:1]
    out['no result'] = []
    return out


def test_irregular_files_fall_back_to_json(tmp_path):
    _, segm_dets = workload(seed=4)
    path = tmp_path / 'results.json'
    for name, results in irregular(segm_dets).items():
        text = json.dumps(results)
        assert fast(text, 'segm') is None, name
        path.write_text(text)
        if not results:
            assert read_result_columns(path, 'segm')[0].tolist() == []
        elif name in ('a missing key', 'a float image id', 'a box of 5 numbers'):
            with pytest.raises(ValueError, match='result'):
                read_result_columns(path, 'segm')
        else:
            assert_columns(read_result_columns(path, 'segm'), expected_columns(results, 'segm'))
    text = json.dumps(segm_dets)
    first_end = text.index('}}, {') + 2
    variants = {
        'other whitespace in one result': text.replace('"score": ', '"score":  ', 3),
        'a unicode escape in a key': text.replace('"score"', '"sc\\u006fre"', 2),
        'an escaped character in counts': text[:first_end + 200].replace('"counts": "', '"counts": "\\u0030', 2)
        + text[first_end + 200:],
        'a trailing comma': text[:-1] + ', ]',
        'a leading zero': text.replace('"image_id": 2,', '"image_id": 02,', 1),
        'a dot without digits': text.replace('"image_id": 2,', '"image_id": 2.,', 1),
        'two dots': text.replace('"score": 0.', '"score": 0.1.', 1),
        'a digit in a key': text.replace('"bbox"', '"bbox5"').replace('"score": ', '"score": ', 1),
        'not a list': '{"a": ' + text + '}',
        'garbage after the list': text + 'x',
    }
    for name, variant in variants.items():
        assert fast(variant, 'segm') is None, name
        path.write_text(variant)
        try:
            expected = expected_columns(json.loads(variant), 'segm')
        except (ValueError, TypeError, KeyError):
            with pytest.raises(ValueError):
                read_result_columns(path, 'segm')
        else:
            assert_columns(read_result_columns(path, 'segm'), expected)


def test_a_number_moved_between_slots_is_not_read():
    """The text between the numbers alone is the first result's, but a number sits where none belongs."""
    text = json.dumps([dict(image_id=1, category_id=2, bbox=[1, 2, 3, 4], score=0.5)] * 3)
    parts = text.split('}, {')
    parts[1] = parts[1].replace('"bbox": [', '"bbox": 7[').replace('"score": 0.5', '"score": ')
    moved = '}, {'.join(parts)
    assert moved.replace('7', '').replace('0.5', '') == text.replace('0.5', '')
    assert fast(moved) is None
    with pytest.raises(ValueError):
        json.loads(moved)


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_threads_give_the_same_columns_in_file_order(iou_type):
    """Chunks parsed by several threads are appended in file order: the same columns as one thread, bit for bit; an
    irregular chunk among them still sends the file to the json path."""
    dets, segm_dets = workload(seed=2, num_images=6)
    text = json.dumps(segm_dets if iou_type == 'segm' else dets).encode()
    one, many = (read_regular_results(io.BytesIO(text), iou_type, 600, threads) for threads in (1, 3))
    assert len(one[0]) == len(dets)
    for a, b in zip(one[:4], many[:4]):
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a.view(np.int64) if a.dtype == np.float64 else a,
                                          b.view(np.int64) if b.dtype == np.float64 else b)
    if iou_type == 'segm':
        assert one[4][0] == many[4][0]
        np.testing.assert_array_equal(one[4][1], many[4][1])
        np.testing.assert_array_equal(one[4][2], many[4][2])
    middle = text.index(b'"score": ', len(text) // 2)
    broken = text[:middle] + b'"score":  ' + text[middle + len(b'"score": '):]
    assert read_regular_results(io.BytesIO(broken), iou_type, 600, 3) is None
