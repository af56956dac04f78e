"""LT-Shapes in mmdet (the generator is :func:`ltmm.demo.lt_shapes.make_lt_shapes`)."""
from mmdet.datasets import LVISV05Dataset

from ...core.registry import register_into
from ...demo.lt_shapes import CLASSES, COLOURS


@register_into('DATASETS', scopes=('mmdet',))
class LTShapesDataset(LVISV05Dataset):
    """LT-Shapes in mmdet: LVIS-format annotations whose images are named by ``file_name`` (mmdet's
    ``LVISV1Dataset`` instead derives image paths from COCO's ``coco_url``)."""
    METAINFO = {
        'classes': CLASSES,
        'palette': [tuple(int(v) for v in COLOURS[name.split('_')[0]][::-1]) for name in CLASSES],
    }
